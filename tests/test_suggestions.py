"""Suggestions: the indexed matcher ranks exactly like scoring every typed value against every option
(the matcher before issue 15, kept here as the reference), and the suggest endpoint answers from a
per-organisation index that follows the list's changes."""

from __future__ import annotations

import random
import uuid

import numpy as np
import pytest
from rapidfuzz import fuzz

from bulkassist.engine import suggestions
from bulkassist.engine.selectlists import demo_lists
from bulkassist.engine.suggestions import (
    MIN_SCORE,
    ListMatcher,
    fold,
    score_matrix,
    sort_words,
)


def reference(options, texts, limit=3, match_labels=False):
    """The brute-force matcher: the full texts x keys matrix, best per option, stable sort, top `limit`."""
    keys, targets = [], []
    for i, (value, label) in enumerate(options):
        keys.append(fold(value))
        targets.append(i)
        if match_labels and label and fold(label) != fold(value):
            keys.append(fold(label))
            targets.append(i)
    scores = score_matrix([fold(t) for t in texts], keys)
    per_option = np.zeros((len(texts), len(options)), dtype=np.uint8)
    np.maximum.at(per_option, (slice(None), np.asarray(targets)), scores)
    top = np.argsort(-per_option.astype(np.int16), axis=1, kind="stable")[:, :min(limit, len(options))]
    return [[(options[j][0], float(per_option[r, j])) for j in top[r] if per_option[r, j] >= MIN_SCORE]
            for r in range(len(texts))]


def engine(options, texts, limit=3, match_labels=False):
    """The engine's fuzzy ranking (safe fixes aside: the reference has none), through the word index; scoring
    every pair (`_rank_all`, a small batch's path) ranks alike."""
    matcher = ListMatcher(options, match_labels=match_labels)
    queries = [fold(t) for t in texts]
    ranked = matcher._rank_fuzzy(queries, min(limit, len(options)))
    assert matcher._rank_all(queries, min(limit, len(options))) == ranked
    return [[(options[j][0], float(s)) for j, s in found] for found in ranked]


def _word(rng, alphabet):
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 7)))


# Small alphabets make many equal scores: ties must fall in list order as before. Hyphens and spaces
# inside words split them in the index (its words are the pieces between separators).
ALPHABETS = ["ab", "abcde", "aeiourstln", "abcdefghijklmnopqrstuvwxyz", "aé ßÆ", "ab-", "a-b -.xy"]


def _random_list(rng, alphabet):
    options = []
    for _ in range(rng.randint(1, 400)):
        value = " ".join(_word(rng, alphabet) for _ in range(rng.randint(0, 4)))
        label = rng.choice([value, value.upper(), " ".join(_word(rng, alphabet) for _ in range(3)), ""])
        options.append((value, label))
    texts = sorted({("  " if rng.random() < .1 else "").join(_word(rng, alphabet) for _ in range(rng.randint(0, 5)))
                    for _ in range(rng.randint(1, 150))})
    return options, texts


@pytest.mark.parametrize("seed", range(42))
def test_top_k_equals_the_brute_force_reference_on_random_lists(seed):
    rng = random.Random(seed)
    options, texts = _random_list(rng, ALPHABETS[seed % len(ALPHABETS)])
    for match_labels in (False, True):
        for limit in (1, 3, 7):
            assert engine(options, texts, limit, match_labels) == reference(options, texts, limit, match_labels)


@pytest.mark.parametrize("options", [
    [("-", "-"), ("--", ""), ("- -", "x"), ("", "")],  # no words in the values (one in a label)
    [("ab", "ab"), ("ab ab", ""), ("ab-ab", "AB"), ("b", ""), ("ab", "b")],  # fewer words than seed words
])
def test_lists_of_fewer_words_than_a_typed_value_seeds_rank_like_the_reference(options):
    # Each typed value's threshold comes from the keys of its best few words: here there are fewer
    # words than that, or none.
    assert len(ListMatcher(options, match_labels=True).prepare()._index.words) < suggestions._SEEDS
    texts = ["a", "ab", "b a", "-", "a-b", "abab", "ba ab", "--", "x", "", "- b"]
    for match_labels in (False, True):
        for limit in (1, 3, 7):
            assert engine(options, texts, limit, match_labels) == reference(options, texts, limit, match_labels)


@pytest.mark.parametrize("threads", [1, 2])
def test_a_batch_ranked_in_chunks_ranks_like_the_reference(monkeypatch, threads):
    # Past a chunk of queries (memory bounds it) the batch is ranked chunk by chunk, on two threads
    # where a core is idle: the answers keep their order, each chunk's thresholds are its own.
    rng = random.Random(77)
    options, _ = _random_list(rng, "aeiourstln")
    texts = sorted({" ".join(_word(rng, "aeiourstln") for _ in range(rng.randint(1, 3))) for _ in range(5000)})
    words = len(ListMatcher(options, match_labels=True).prepare()._index.words)
    monkeypatch.setattr(suggestions, "_CELLS", 700 * words)  # chunks of at most 700 queries
    monkeypatch.setattr(suggestions, "_idle_cores", lambda: 1.0 if threads == 2 else -3.0)
    monkeypatch.setattr(suggestions, "_THREADED_QUERIES", 1_000)
    assert len(texts) > 5 * 700
    assert engine(options, texts, 3, True) == reference(options, texts, 3, True)


@pytest.mark.parametrize("seed", range(7))
def test_one_typed_value_at_a_time_ranks_like_the_reference(seed):
    # A few typed values (the suggest endpoint) take another path through the index than a batch.
    rng = random.Random(100 + seed)
    options, texts = _random_list(rng, ALPHABETS[seed])
    matcher = ListMatcher(options, match_labels=True)
    for text in texts[:40] + ["zzz", ""]:  # (nothing near, nothing typed)
        got = [[(options[j][0], float(s)) for j, s in found] for found in matcher._rank_fuzzy([fold(text)], 5)]
        assert got == reference(options, [text], 5, match_labels=True), text


@pytest.mark.parametrize("cells", [0, 10 ** 9])
def test_rapidfuzz_threads_or_one_thread_rank_alike(monkeypatch, cells):
    # rapidfuzz's threads start only for calls of `_THREAD_CELLS` scores or more (one typed value: never);
    # with them for every call (0) or for none, the ranking is the reference's, one value or a batch.
    monkeypatch.setattr(suggestions, "_THREAD_CELLS", cells)
    monkeypatch.setattr(suggestions, "_idle_cores", lambda: -3.0)  # (one chunk after the other: workers=-1)
    rng = random.Random(31)
    options, texts = _random_list(rng, "aeiourstln")
    matcher = ListMatcher(options, match_labels=True)
    for text in texts[:20]:
        got = [[(options[j][0], float(s)) for j, s in found] for found in matcher._rank_fuzzy([fold(text)], 5)]
        assert got == reference(options, [text], 5, match_labels=True), text
    ranked = [[(options[j][0], float(s)) for j, s in found] for found in matcher._rank_fuzzy(
        [fold(t) for t in texts], 3)]
    assert ranked == reference(options, texts, 3, match_labels=True)


def test_character_bags_count_each_bucket_of_the_alphabet():
    # The order-free bound's buckets: the keys' 31 most frequent characters, one each; every other character
    # (rarer ones, and code points past the alphabet's, as emoji) in the last.
    keys = [fold(v) for v in ["Zoë Smith", "Ana López", "Øyvind Berg", "李 Wei", "Jean-Pierre O'Brien"]
            + [chr(c) * (1 + c % 3) for c in range(ord("a"), ord("z") + 1)]]
    index = ListMatcher([(k, k) for k in keys]).prepare()._index
    assert index.alphabet.size == suggestions._BUCKETS
    texts = ["zoe smith", "😀 ana", "", "李李 x", "ø-ÿ", "\x00a"]
    expected = np.zeros((len(texts), suggestions._BUCKETS), dtype=np.int64)
    for row, text in enumerate(texts):
        for char in text:
            where = np.flatnonzero(index.alphabet[:-1] == ord(char))
            expected[row, where[0] if where.size else -1] += 1
    assert (index.bags(texts, suggestions._codes(texts)) == expected).all()


def test_top_k_equals_the_reference_on_names_with_typos():
    rng = random.Random(5)
    first = ["Maria", "Mario", "Marie", "James", "Jamie", "Ana", "Anna", "Ann", "Li", "Jo"]
    last = ["Lopez", "Lopes", "Smith", "Smyth", "Nguyen", "Harris", "Harrison", "Lee", "O", "Garcia-Ruiz"]
    options = [(f"{f} {x} {s}".replace("  ", " "), f"{s}, {f}") for f in first for s in last for x in ("", "J.")]
    texts = []
    for value, _ in rng.sample(options, 120):
        chars = list(value)
        del chars[rng.randrange(len(chars))]
        texts.append("".join(chars))
        texts.append(" ".join(reversed(value.split(" "))))
    for match_labels in (False, True):
        assert engine(options, texts, 3, match_labels) == reference(options, texts, 3, match_labels)


# Staff-like names: middle initials and two-letter names (the index's light words), double-barrelled
# and long values, unicode, values equal once folded, labels that repeat, reorder or differ.
FIRST = ["Maria", "Mario", "José", "Zoë", "Øyvind", "Li", "Jo", "Ann", "Jean-Pierre", "Ærø", "Straße", "Nguyễn"]
LAST = ["Le", "Li", "Smith", "Smyth", "O'Brien", "Müller", "Mueller", "Garcia-Ruiz", "Kowalski", "Ng", "Ōta"]


def _staff_name(rng):
    name = [rng.choice(FIRST)]
    if rng.random() < 0.4:
        name.append(f"{rng.choice('ABJLMSÉ')}.")
    name.append(rng.choice(LAST) + (f"-{rng.choice(LAST)}" if rng.random() < 0.2 else ""))
    if rng.random() < 0.05:  # long values (past 255 characters, sometimes)
        name.extend(rng.choice(FIRST + LAST) for _ in range(rng.choice([8, 45])))
    return " ".join(name)


def _slip(rng, text):
    chars = list(text)
    for _ in range(rng.choice([1, 1, 2, 3])):
        if not chars:
            break
        i, op = rng.randrange(len(chars)), rng.random()
        if op < 0.3:
            del chars[i]
        elif op < 0.6:
            chars.insert(i, rng.choice("aeiouslé. -"))
        elif op < 0.8:
            chars[i] = rng.choice("aeiounrstß")
        elif i + 1 < len(chars):
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
    text = "".join(chars)
    return " ".join(reversed(text.split(" ", 1))) if rng.random() < 0.15 else text


@pytest.mark.parametrize("seed", range(10))
def test_top_k_equals_the_reference_on_staff_like_names(seed):
    rng = random.Random(1000 + seed)
    values = [_staff_name(rng) for _ in range(rng.randint(20, 400))]
    values += [v.upper().replace(" ", "  ") for v in rng.sample(values, min(5, len(values)))]  # same once folded
    labels = [rng.choice([v, v.lower(), " ".join(reversed(v.split())), _staff_name(rng), ""]) for v in values]
    options = list(zip(values, labels, strict=True))
    texts = sorted({_slip(rng, rng.choice(values + labels)) for _ in range(rng.randint(30, 300))}
                   | {"", "a.", "Li", "zz"})
    for match_labels in (False, True):
        for limit in (1, 3, 5):
            assert engine(options, texts, limit, match_labels) == reference(options, texts, limit, match_labels)
    matcher = ListMatcher(options, match_labels=True)  # one at a time: the endpoint's path through the index
    for text in texts[:25]:
        got = [[(options[j][0], float(s)) for j, s in found] for found in matcher._rank_fuzzy([fold(text)], 5)]
        assert got == reference(options, [text], 5, match_labels=True), text


@pytest.mark.parametrize("ranked_pairs", [0, 10**9], ids=["past-kth-best", "all-reaching-min-score"])
@pytest.mark.parametrize("seed", range(8))
def test_every_pair_scored_ranks_like_the_reference_whether_its_pairs_are_cut_at_the_kth_best_or_not(
        monkeypatch, ranked_pairs, seed):
    monkeypatch.setattr(suggestions, "_RANKED_PAIRS", ranked_pairs)
    rng = random.Random(2000 + seed)
    options, texts = _random_list(rng, ALPHABETS[seed % len(ALPHABETS)])
    for limit in (1, 3):
        ranked = ListMatcher(options, match_labels=True)._rank_all([fold(t) for t in texts], min(limit, len(options)))
        assert [[(options[j][0], float(s)) for j, s in found] for found in ranked] == reference(
            options, texts, limit, match_labels=True)


def test_the_demo_lists_give_the_same_suggestions_as_before():
    rng = random.Random(9)
    lists = demo_lists()
    for name in lists.names():
        options = lists.options(name)
        texts = set()
        for value, label in options:
            for text in (value, label):
                chars = list(text)
                i = rng.randrange(len(chars))
                texts.update({"".join(chars[:i] + chars[i + 1:]), "".join(chars[:i] + ["x"] + chars[i:]),
                              text.lower()[::-1], text[: max(1, len(text) // 2)]})
        texts = sorted(texts)
        for match_labels in (False, True):
            assert engine(options, texts, 3, match_labels) == reference(options, texts, 3, match_labels), name


def test_a_match_through_the_index_or_every_pair_is_the_same(monkeypatch):
    # A batch of few queries x keys against a short list scores every pair (`_rank_all`); a larger batch, or
    # a long list, is searched through the word index.
    rng = random.Random(31)
    values = [_staff_name(rng) for _ in range(300)]
    options = list(zip(values, [" ".join(reversed(v.split())) for v in values], strict=True))
    texts = [_slip(rng, rng.choice(values)) for _ in range(200)] + [values[0].upper(), "", "zz"]
    used = []
    for path in ("_rank_all", "_rank_fuzzy"):
        ranked = getattr(ListMatcher, path)
        monkeypatch.setattr(ListMatcher, path, lambda self, q, k, path=path, ranked=ranked: (
            used.append(path), ranked(self, q, k))[1])
    found, count = [], len(ListMatcher(options, match_labels=True)._keys)  # (values and labels)
    for pairs, keys in ((10**9, 10**9), (0, 10**9), (10**9, count - 1), (10**9, count)):
        monkeypatch.setattr(suggestions, "_ALL_PAIRS", pairs)
        monkeypatch.setattr(suggestions, "_ALL_KEYS", keys)
        found.append(ListMatcher(options, match_labels=True).match(texts, 3))
    assert used == ["_rank_all", "_rank_fuzzy", "_rank_fuzzy", "_rank_all"]
    assert all(f == found[0] for f in found)
    assert sum(m.safe for m in found[0]) < len(texts) - 50 and sum(bool(m.candidates) for m in found[0]) > 100


def test_safe_fixes_are_unchanged():
    options = [("English", "English"), ("Spanish", "Spanish"), ("HOUSING", "Housing & Residence Life")]
    matcher = ListMatcher(options, match_labels=True)
    safe, label, fuzzy, nothing = matcher.match(["  english ", "housing & residence  LIFE", "englsh", "zzzz"])
    assert (safe.suggestion, safe.confidence, safe.safe) == ("English", 1.0, True)
    assert (label.suggestion, label.safe) == ("HOUSING", True)
    assert (fuzzy.suggestion, fuzzy.safe, fuzzy.confidence) == ("English", False, 0.92)
    assert nothing == nothing.__class__(None, None, False, ())
    # A folded text naming two options is no safe fix.
    twice = ListMatcher([("A b", "A b"), ("a  B", "a  B")]).match(["A B"])[0]
    assert not twice.safe and [c.value for c in twice.candidates] == ["A b", "a  B"]


def test_sorted_words_are_what_token_sort_ratio_compares():
    rng = random.Random(2)
    alphabet = "ab cé\u00a0\x85\tZ\u3000ß"
    for _ in range(3000):
        a = fold("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))))
        b = fold("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))))
        assert fuzz.ratio(sort_words(a), sort_words(b)) == fuzz.token_sort_ratio(a, b)
        assert " " not in (a[:1], a[-1:]) and "  " not in a  # folded: single spaces between words


# ------------------------------------------------------------------ the suggest endpoint (over HTTP)
def _names(prefix: str, count: int) -> list[str]:
    rng = random.Random(prefix)
    first = ["Maria", "James", "Ana", "Robert", "Linh", "David", "Fatima", "Carlos", "Grace", "Samuel"]
    return [f"{rng.choice(first)} {prefix}{i:03d}" for i in range(count)]


def test_the_endpoint_scores_like_the_engine(client_for):
    admin = client_for("admin")
    name = f"people_{uuid.uuid4().hex[:6]}"
    options = [(v, f"{v.split()[1]}, {v.split()[0]}") for v in _names("Quinn", 300)]
    admin.request("PUT", f"/admin/lists/{name}", json=[{"value": v, "label": lbl} for v, lbl in options])
    matcher = ListMatcher(options, match_labels=True)
    for text in ["Mria Quinn017", "quinn042, ana", "Quinn", "zzz", "Carlos Quinn299"]:
        got = [(c["value"], c["label"], c["score"]) for c in admin.suggest(name, text, limit=7)]
        assert got == [(c.value, c.label, c.score) for c in matcher.rank(text, limit=7)]


def test_the_endpoint_index_follows_list_changes(client_for):
    admin, importer = client_for("admin"), client_for("importer")
    name = f"staff_{uuid.uuid4().hex[:6]}"
    old, new = _names("Old", 50), _names("New", 50)
    admin.request("PUT", f"/admin/lists/{name}", json=[{"value": v} for v in old])
    before = importer.suggest(name, old[7][1:])
    assert before[0]["value"] == old[7] and all(c["value"] in old for c in before)
    admin.request("PUT", f"/admin/lists/{name}", json=[{"value": v} for v in new])
    stale, fresh = importer.suggest(name, old[7][1:]), importer.suggest(name, new[7][1:])
    assert fresh[0]["value"] == new[7] and all(c["value"] in new for c in stale + fresh)
    admin.request("PUT", f"/admin/lists/{name}", json=[])  # the list is gone
    with pytest.raises(Exception, match="no select list"):
        importer.suggest(name, "Nw")


def test_the_endpoint_never_answers_another_organisations_list(server, client_for):
    import sqlalchemy as sa

    from bulkassist.server import admin as org_admin
    from bulkassist.server.db import make_engine, sessions

    name = f"shared_{uuid.uuid4().hex[:6]}"
    ours, theirs = _names("Demo", 40), _names("Other", 40)
    client_for("admin").request("PUT", f"/admin/lists/{name}", json=[{"value": v} for v in ours])
    demo, other = client_for("importer"), client_for("other_org")
    with pytest.raises(Exception, match="no select list"):
        other.suggest(name, "Demo001")  # the other organisation has no such list
    assert demo.suggest(name, "Demo001")  # cached for the demo organisation now
    engine = make_engine(server.database_url)
    try:
        with sessions(engine).begin() as session:
            org = org_admin.organisation(session, "Other Organisation")
            org_admin.set_list(session, org, name, [(v, v) for v in theirs])
            assert session.scalar(sa.text("SELECT count(*) FROM select_lists WHERE list_name = :n"),
                                  {"n": name}) == 2
    finally:
        engine.dispose()
    for text in ["Demo001", "Other001", "Maria", "o"]:
        assert all(c["value"] in theirs for c in other.suggest(text=text, list_name=name, limit=20))
        assert all(c["value"] in ours for c in demo.suggest(text=text, list_name=name, limit=20))
    assert [c["value"] for c in other.suggest(name, theirs[1].lower())] == [theirs[1]]
    assert [c["value"] for c in demo.suggest(name, ours[1].lower())] == [ours[1]]


def test_the_endpoint_checks_the_token_at_every_call(server, client_for):
    # The list's matcher is cached; the caller is not: a missing, wrong or revoked token is refused
    # even right after a call answered from the cache.
    import requests
    import sqlalchemy as sa

    from bulkassist.client import Client
    from bulkassist.errors import AuthenticationFailed
    from bulkassist.server.auth import hash_token, issue_token
    from bulkassist.server.db import make_engine, sessions
    from bulkassist.server.models import ApiToken, User, utcnow

    name = f"guarded_{uuid.uuid4().hex[:6]}"
    client_for("admin").request("PUT", f"/admin/lists/{name}", json=[{"value": v} for v in _names("Kept", 20)])
    engine = make_engine(server.database_url)
    try:
        with sessions(engine).begin() as session:
            user_id = session.scalar(sa.select(User.id).where(User.name == client_for().me()["user"]))
            token = issue_token(session, user_id, "suggest test")
        fresh = Client(server.url, token, retries=0)
        assert fresh.suggest(name, "Kept001")  # the list is cached now
        with pytest.raises(AuthenticationFailed, match="token"):
            Client(server.url, "ba_not-a-token", retries=0).suggest(name, "Kept001")
        answer = requests.get(f"{server.url}/api/v1/lists/{name}/suggest", params={"q": "Kept001"}, timeout=10)
        assert answer.status_code == 401 and "Authorization: Bearer" in answer.json()["error"]["message"]
        with sessions(engine).begin() as session:
            session.execute(sa.update(ApiToken).where(ApiToken.token_hash == hash_token(token))
                            .values(revoked_at=utcnow()))
        with pytest.raises(AuthenticationFailed, match="revoked"):
            fresh.suggest(name, "Kept001")
    finally:
        engine.dispose()
