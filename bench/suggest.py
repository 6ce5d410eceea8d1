"""Bench: suggestions for 10k distinct typos against a 50,000-value select list (a big organisation's
staff names), and the suggest endpoint's latency on that list over HTTP.

    python bench/suggest.py                                   # 50k values, 10k typos, 3 runs each
    python bench/suggest.py --values 20000 --typos 2000 --repeat 3 --baseline-typos 1000

Batch: each run is a new process: wall and CPU seconds of `ListMatcher(options).match(typos)` (index
built inside) and the process's peak RSS (everything: interpreter, data, matcher); medians of
`--repeat` runs. Baseline in the same run: the brute force (the full typo x value score matrix per
scorer with rapidfuzz's cdist, the best of the two, np.maximum.at, a full sort of every row to keep 3:
the matcher before issue 15). It needs ~6 GB at 10k x 50k, so it runs on `--baseline-typos` typos
(default 1,000) and its time is also shown scaled to the same typo count (it is linear in typos).
Targets: <= 1.5 s wall and <= 500 MB peak.

Endpoint: a real server (`start_server_process`, SQLite, uvicorn on 127.0.0.1 and a free port); the
list is loaded as `bulkassist admin` would (it is over the 1 MB request body limit of the API).
`--repeat` rounds of `--queries` GET /lists/{list}/suggest calls after the first (which builds the
index); p50 / p95 per round, medians printed. Baseline in the same run: scoring one typed value
against the whole list per call (cdist of 1 x 50k, both scorers), in process, no HTTP. Target: the
endpoint's p95 <= 30 ms at 50k values. The machine's load (`uptime`) is printed before and after.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

TARGET_SECONDS, TARGET_MB, TARGET_P95_MS = 1.5, 500, 30.0

FIRST = """James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan
Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty Anthony Sandra Mark
Margaret Donald Ashley Steven Kimberly Andrew Emily Paul Donna Joshua Michelle Kenneth Carol Kevin Amanda
Brian Melissa George Deborah Timothy Stephanie Ronald Dorothy Jason Rebecca Edward Sharon Jeffrey Laura Ryan
Cynthia Jacob Amy Gary Kathleen Nicholas Angela Eric Shirley Jonathan Brenda Stephen Emma Larry Anna Justin
Pamela Scott Nicole Brandon Samantha Benjamin Katherine Samuel Christine Gregory Helen Alexander Debra Patrick
Rachel Frank Carolyn Raymond Janet Jack Maria Dennis Catherine Jerry Heather Tyler Diane Aaron Olivia Jose
Julie Adam Joyce Nathan Victoria Henry Ruth Zachary Virginia Douglas Lauren Peter Kelly Kyle Christina Noah
Joan Ethan Evelyn Jeremy Judith Christian Andrea Walter Hannah Keith Megan Austin Cheryl Roger Jacqueline
Terry Martha Sean Madison Gerald Teresa Carl Gloria Dylan Sara Harold Janice Jordan Ann Jesse Kathryn Bryan
Abigail Lawrence Sophia Arthur Frances Gabriel Jean Bruce Alice Logan Judy Billy Isabella Joe Julia Alan
Grace Juan Amber Elijah Denise Willie Danielle Albert Marilyn Wayne Beverly Randy Charlotte Mason Natalie
Vincent Theresa Liam Diana Roy Brittany Bobby Doris Caleb Kayla Bradley Alexis Russell Lori Lucas Marie
Linh Fatima Carlos Mei Omar Sofia Aisha Luis Jean-Pierre Nguyen Priya Ahmed Yuki Chen Ana Diego Ines""".split()
LAST = """Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson
Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis Robinson
Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell
Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris
Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward
Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders
Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson
Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds Griffin
Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro
Marshall Owens Harrison Fernandez McDonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb
Tucker Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Munoz
Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice Schmidt
Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan Gardner Payne Grant Dunn Kelley Spencer Hawkins
Arnold Pierce Vazquez Hansen Peters Santos Hart Bradley Knight Elliott Cunningham Duncan Armstrong Hudson
Carroll Lane Riley Andrews Alvarado Ray Delgado Berry Perkins Hoffman Johnston Matthews Pena Richards Contreras
Willis Carpenter Lawrence Sandoval Guerrero George Chapman Rios Estrada Ortega Watkins Greene Nunez Wheeler
Valdez Harper Burke Larson Santiago Maldonado Morrison Franklin Carlson Austin Dominguez Carr Lawson Jacobs
O'Brien Lynch Singh Vega Bishop Montgomery Oliver Jensen Harvey Williamson Gilbert Dean Sims Espinoza Howell
Li Le Pierre Khan Okafor Mensah Haddad Kowalski Novak Rossi Costa Yamamoto Sato Kaur Das""".split()


def staff_names(count: int, seed: int = 7) -> list[str]:
    """`count` distinct staff names: first (sometimes a middle initial) and last, some double-barrelled."""
    rng = random.Random(seed)
    names: dict[str, None] = {}
    while len(names) < count:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        if rng.random() < 0.15:
            last = f"{last}-{rng.choice(LAST)}"
        middle = f" {rng.choice('ABCDEFGHJKLMNPRSTW')}." if rng.random() < 0.3 else ""
        names.setdefault(f"{first}{middle} {last}", None)
    return list(names)


def typos(values: list[str], count: int, seed: int = 11) -> list[str]:
    """`count` distinct typed values none of which is a value: 1-2 slips, sometimes 'Last First'."""
    rng = random.Random(seed)
    taken = {v.casefold() for v in values}
    out: dict[str, None] = {}
    letters = "abcdefghijklmnopqrstuvwxyz"
    while len(out) < count:
        chars = list(rng.choice(values))
        for _ in range(rng.choice((1, 1, 2))):
            i, op = rng.randrange(len(chars)), rng.random()
            if op < 0.3:
                del chars[i]
            elif op < 0.55:
                chars.insert(i, rng.choice(letters))
            elif op < 0.8:
                chars[i] = rng.choice(letters)
            elif i + 1 < len(chars):
                chars[i], chars[i + 1] = chars[i + 1], chars[i]
        text = "".join(chars)
        if rng.random() < 0.1:
            text = " ".join(reversed(text.split(" ", 1)))
        if text.strip() and " ".join(text.split()).casefold() not in taken:
            out.setdefault(text, None)
    return list(out)


def brute_force(options: list[tuple[str, str]], texts: list[str], limit: int = 3,
                keys: list[str] | None = None) -> list[list[tuple[int, int]]]:
    """The matcher before issue 15: full matrices, np.maximum.at, a full stable sort per row.

    `keys`: the options' values folded, when already done."""
    from rapidfuzz import fuzz, process

    from bulkassist.engine.suggestions import MIN_SCORE, fold

    keys = keys if keys is not None else [fold(v) for v, _ in options]
    targets = np.arange(len(keys))
    queries = [fold(t) for t in texts]
    scores = np.maximum(
        process.cdist(queries, keys, scorer=fuzz.ratio, dtype=np.uint8, workers=-1),
        process.cdist(queries, keys, scorer=fuzz.token_sort_ratio, dtype=np.uint8, workers=-1),
    )
    per_option = np.zeros((len(queries), len(options)), dtype=np.uint8)
    np.maximum.at(per_option, (slice(None), targets), scores)
    top = np.argsort(-per_option.astype(np.int16), axis=1, kind="stable")[:, :limit]
    return [[(int(j), int(per_option[r, j])) for j in top[r] if per_option[r, j] >= MIN_SCORE]
            for r in range(len(queries))]


def worker(mode: str, values: int, count: int) -> None:
    """One measured run in this (new) process; prints a JSON line."""
    from bulkassist.engine.suggestions import ListMatcher

    names = staff_names(values)
    options = [(v, v) for v in names]
    texts = typos(names, count)
    wall, cpu = time.perf_counter(), time.process_time()
    if mode == "engine":
        found = ListMatcher(options).match(texts)
        suggested = sum(1 for m in found if m.candidates)
    else:
        suggested = sum(1 for c in brute_force(options, texts) if c)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall": wall, "cpu": cpu, "peak_mb": peak, "suggested": suggested}))


def measure(mode: str, values: int, count: int, repeat: int) -> dict[str, float]:
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, __file__, "--worker", mode, "--values", str(values),
                              "--typos", str(count)], check=True, capture_output=True, text=True).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def same_results(values: int, count: int) -> bool:
    """The engine's suggestions equal the brute force's on `count` of the typos (checked, not timed)."""
    from bulkassist.engine.suggestions import ListMatcher

    names = staff_names(values)
    options = [(v, v) for v in names]
    texts = typos(names, count)
    position = {v: i for i, v in enumerate(names)}
    got = [[(position[c.value], int(c.score)) for c in m.candidates] for m in ListMatcher(options).match(texts)]
    return got == brute_force(options, texts)


def endpoint_latency(values: int, queries: int, rounds: int) -> tuple[float, list[tuple[float, float]]]:
    """(first call, [(p50, p95) per round]) milliseconds of GET /lists/{list}/suggest over HTTP."""
    import tempfile

    from bulkassist.client import Client
    from bulkassist.server import admin
    from bulkassist.server.db import make_engine, sessions
    from bulkassist.server.launch import start_server_process

    names = staff_names(values)
    texts = typos(names, queries + 1, seed=23)
    with tempfile.TemporaryDirectory() as folder:
        server = start_server_process(data_dir=folder)
        try:
            engine = make_engine(server.database_url)
            with sessions(engine).begin() as session:
                org = admin.organisation(session, "Demo Organisation")
                admin.set_list(session, org, "bench_staff", [(v, v) for v in names])
            engine.dispose()
            client = Client(server.url, server.tokens["importer"])
            t0 = time.perf_counter()
            client.suggest("bench_staff", texts[0])
            first = (time.perf_counter() - t0) * 1000
            out = []
            for _ in range(rounds):
                timings = []
                for text in texts[1:]:
                    t0 = time.perf_counter()
                    client.suggest("bench_staff", text)
                    timings.append((time.perf_counter() - t0) * 1000)
                out.append(_percentiles(timings))
        finally:
            server.stop()
    return first, out


def brute_force_latency(values: int, queries: int) -> tuple[float, float]:
    """(p50, p95) milliseconds of scoring one typed value against the whole list, in process."""
    from bulkassist.engine.suggestions import fold

    names = staff_names(values)
    options = [(v, v) for v in names]
    keys = [fold(v) for v in names]
    timings = []
    for text in typos(names, queries + 1, seed=23)[1:]:
        t0 = time.perf_counter()
        brute_force(options, [text], limit=5, keys=keys)
        timings.append((time.perf_counter() - t0) * 1000)
    return _percentiles(timings)


def _percentiles(timings: list[float]) -> tuple[float, float]:
    timings = sorted(timings)
    return timings[len(timings) // 2], timings[min(len(timings) - 1, int(len(timings) * 0.95))]


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--values", type=int, default=50_000)
    parser.add_argument("--typos", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline-typos", type=int, default=1_000,
                        help="typos for the brute-force baseline (10k x 50k needs ~6 GB)")
    parser.add_argument("--queries", type=int, default=300, help="endpoint calls measured per round")
    parser.add_argument("--check", type=int, default=300, help="typos whose suggestions are compared")
    parser.add_argument("--worker", choices=["engine", "brute"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.values, args.typos)
        return
    base_typos = min(args.baseline_typos, args.typos)
    print(f"uptime: {uptime()}")
    print(f"select list of {args.values:,} staff names, {args.typos:,} distinct typos, medians of {args.repeat}")
    print(f"same suggestions as the brute force on {args.check:,} typos: {same_results(args.values, args.check)}")
    new = measure("engine", args.values, args.typos, args.repeat)
    old = measure("brute", args.values, base_typos, args.repeat)
    scale = args.typos / base_typos
    print(f"engine (word index, top-k):   wall {new['wall']:.2f} s, CPU {new['cpu']:.2f} s, "
          f"peak RSS {new['peak_mb']:.0f} MB, {new['suggested']:,.0f} typos with a suggestion")
    print(f"baseline (full matrix, sort): wall {old['wall']:.2f} s, CPU {old['cpu']:.2f} s, "
          f"peak RSS {old['peak_mb']:.0f} MB on {base_typos:,} typos"
          + (f" (wall {old['wall'] * scale:.1f} s, CPU {old['cpu'] * scale:.1f} s scaled to {args.typos:,})"
             if scale != 1 else ""))
    print(f"ratio: baseline / engine wall {old['wall'] * scale / new['wall']:.1f}x, "
          f"CPU {old['cpu'] * scale / new['cpu']:.1f}x")
    print(f"{verdict(new['wall'] <= TARGET_SECONDS)}: suggestions wall {new['wall']:.2f} s <= {TARGET_SECONDS} s "
          f"(CPU {new['cpu']:.2f} s)")
    print(f"{verdict(new['peak_mb'] <= TARGET_MB)}: suggestions peak {new['peak_mb']:.0f} MB <= {TARGET_MB} MB")
    first, rounds = endpoint_latency(args.values, args.queries, args.repeat)
    p50 = statistics.median(r[0] for r in rounds)
    p95 = statistics.median(r[1] for r in rounds)
    base50, base95 = brute_force_latency(args.values, min(args.queries, 100))
    print(f"endpoint over HTTP, {args.values:,} values, {args.repeat} rounds of {args.queries} typed values: "
          f"first call (builds the index) {first:.0f} ms, p50 {p50:.1f} ms, p95 {p95:.1f} ms "
          f"(p95 per round: {', '.join(f'{r[1]:.1f}' for r in rounds)})")
    print(f"baseline (whole list scored per call, in process, no HTTP): p50 {base50:.1f} ms, p95 {base95:.1f} ms; "
          f"ratio baseline / endpoint p95 {base95 / p95:.1f}x")
    print(f"{verdict(p95 <= TARGET_P95_MS)}: endpoint p95 {p95:.1f} ms <= {TARGET_P95_MS:.0f} ms")
    print(f"uptime: {uptime()}")




if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
