"""Column mapping: which domain field each column of a file fills (seed 001 steps 3-5, issue 9).

A file's columns (Import Fields) are paired with Target Fields: a field of the domain, a
`Custom.<NAME>` field where the domain has custom fields, or "Do not import" (`DO_NOT_IMPORT`).
No column is ever dropped silently: validation reports every column that is neither matched nor
mapped as an error until a person maps it or chooses "Do not import".

`propose_mapping` proposes, per column, in this order (the first that answers wins):

1. ``saved``      the organisation's saved mapping for this domain (exact header);
2. ``exact`` / ``alias`` / ``normalised``   the field's name, one of its aliases, or the name once case,
   spaces and punctuation are folded ("first_name" for FirstName);
3. ``fuzzy``      the header is close to a field name or alias (rapidfuzz);
4. ``values``     the column's values look like one field's: e-mail addresses, phone numbers, dates,
   values of one select list. Only a bounded sample of each column is read (`SAMPLE_ROWS`), never
   the whole file, so a million-row file is proposed for as fast as a small one.

Steps 1-2 are applied by validation on their own; 3-4 are proposals a person confirms.
`resolve_mapping` checks a chosen mapping and refuses, naming the column and the target, an unknown
target, a field of another domain, or two columns sent to one field.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from rapidfuzz import fuzz, process

from bulkassist.domains import all_domains
from bulkassist.engine.headers import clean_header, header_key
from bulkassist.engine.selectlists import SelectLists
from bulkassist.errors import InvalidRequest
from bulkassist.io.reading import Table
from bulkassist.spec import Domain, Kind

DO_NOT_IMPORT = "-"
# Rows of each column read to propose a target from its values (and to show samples).
SAMPLE_ROWS = 500
SAMPLES_SHOWN = 5
# Share of a column's sampled values that must look like a kind for a "values" proposal.
VALUES_SHARE = 0.8
FUZZY_CUTOFF = 70
METHODS = ("saved", "manual", "exact", "alias", "normalised", "fuzzy", "values")

_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
_PHONE = r"^(\([0-9]{3}\) ?[0-9]{3}-[0-9]{4}|[0-9]{3}[-.][0-9]{3}[-.][0-9]{4})$"
_DATE = r"^([0-9]{1,2}/[0-9]{1,2}/[0-9]{4}|[0-9]{4}-[0-9]{2}-[0-9]{2})$"
_KIND_PATTERNS = {Kind.EMAIL: _EMAIL, Kind.PHONE: _PHONE, Kind.DATE: _DATE}


def _sample(data: Any) -> tuple[list[str], pl.DataFrame]:
    """(headers as written, at most `SAMPLE_ROWS` rows of text) of a Table, a polars or pandas frame."""
    if isinstance(data, Table):
        return list(data.headers), data.frame.head(SAMPLE_ROWS)
    if not isinstance(data, pl.DataFrame):
        data = pl.from_pandas(data.head(SAMPLE_ROWS).astype(str).where(data.head(SAMPLE_ROWS).notna(), None))
    frame = data.head(SAMPLE_ROWS)
    return [str(c) for c in frame.columns], frame.cast(pl.String)


def _exact_targets(domain: Domain) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(exact name -> field, alias key -> field, name key -> field)."""
    exact = {f.name: f.name for f in domain.fields}
    alias = {header_key(a): f.name for f in domain.fields for a in f.aliases}
    loose = {header_key(f.name): f.name for f in domain.fields}
    return exact, alias, loose


def custom_target(domain: Domain, header: str) -> str | None:
    """`Custom.<NAME>` when `header` names a custom field of a domain that has them."""
    if not domain.custom_prefix or "." not in header:
        return None
    prefix, _, name = header.partition(".")
    if header_key(prefix) != header_key(domain.custom_prefix) or not name.strip():
        return None
    return f"{domain.custom_prefix}{name.strip()}"


def automatic_target(domain: Domain, header: str) -> tuple[str, str] | None:
    """(target, method) when `header` names a field on its own: exact, alias, normalised or `Custom.`."""
    text = clean_header(header)
    exact, alias, loose = _exact_targets(domain)
    key = header_key(text)
    if text in exact:
        return exact[text], "exact"
    if key in loose:
        return loose[key], "normalised"
    if key in alias:
        return alias[key], "alias"
    custom = custom_target(domain, text)
    return (custom, "exact") if custom else None


def _fuzzy(domain: Domain, header: str, taken: set[str]) -> tuple[str, float] | None:
    names = [(f.name, header_key(n)) for f in domain.fields for n in (f.name, *f.aliases) if f.name not in taken]
    if not names:
        return None
    best = process.extractOne(header_key(header), [k for _, k in names], scorer=fuzz.ratio,
                              score_cutoff=FUZZY_CUTOFF)
    return (names[best[2]][0], round(best[1] / 100, 2)) if best else None


def _value_tests(domain: Domain, lists: SelectLists | None) -> tuple[dict[str, pl.Expr], dict[str, str]]:
    """({test: expression true for a value `v` that fits it}, {field: its test}) for the fields that can be
    recognised by their values; fields of one kind (two phone fields) share one test."""
    tests: dict[str, pl.Expr] = {}
    of_field: dict[str, str] = {}
    for f in domain.fields:
        pattern = _KIND_PATTERNS.get(f.kind)
        if pattern:
            key = f.kind.value
            tests.setdefault(key, pl.col("v").str.contains(pattern))
        elif f.kind is Kind.SELECT and f.select_list and lists is not None:
            options = lists.options(f.select_list)
            known = [v for v, _ in options] + ([lbl for _, lbl in options] if f.match_labels else [])
            if not known:
                continue
            key = f"{f.select_list}\x1f{f.match_labels}"
            tests.setdefault(key, pl.col("v").is_in(pl.Series(known, dtype=pl.String).implode()))
        else:
            continue
        of_field[f.name] = key
    return tests, of_field


def _by_values(domain: Domain, header: str, shares: dict[str, float], taken: set[str]
               ) -> tuple[str, float] | None:
    """The field whose kind (or select list) most of the sampled values fit; ties go to the field whose
    name is closest to the header, then to the spec's order."""
    scores = {name: share for name, share in shares.items() if name not in taken and share >= VALUES_SHARE}
    if not scores:
        return None
    order = {f.name: i for i, f in enumerate(domain.fields)}
    best = max(scores, key=lambda n: (scores[n], _similar(header, n), -order[n]))
    # A kind is weaker evidence than a name: at most 0.8.
    return best, round(min(scores[best], 1.0) * 0.8, 2)


def _similar(header: str, name: str) -> float:
    """How much a header looks like a field name; below 60 it is noise, and the spec's order decides."""
    ratio = fuzz.partial_ratio(header_key(header), header_key(name))
    return ratio if ratio >= 60 else 0.0


def propose_mapping(frame_or_sample: Any, domain: Domain, saved: dict[str, str] | None = None, *,
                    lists: SelectLists | None = None) -> list[dict[str, Any]]:
    """Per column of the file: {column, target, confidence, method, samples}.

    `saved` is a mapping the organisation saved ({header: target or "-"}), applied by exact header.
    `target` is a field name, `Custom.<NAME>`, "-" (do not import) or None (no proposal); only the
    first `SAMPLE_ROWS` rows are read, and every column's samples and value shares are computed in one
    vectorised pass over them.
    """
    headers, cells = _sample(frame_or_sample)
    names = cells.columns
    saved_by_header = {clean_header(h): t for h, t in (saved or {}).items()}
    out: list[dict[str, Any]] = []
    taken: set[str] = set()
    # First: what needs no guess (saved, exact, alias, normalised), so a guess never takes a field a later
    # column names exactly.
    for header in headers:
        text = clean_header(header)
        entry: dict[str, Any] = {"column": text, "target": None, "confidence": 0.0, "method": None, "samples": []}
        if text in saved_by_header:
            entry.update(target=saved_by_header[text], confidence=1.0, method="saved")
        elif text and (auto := automatic_target(domain, text)) is not None:
            entry.update(target=auto[0], confidence=1.0, method=auto[1])
        if entry["target"] and entry["target"] != DO_NOT_IMPORT:
            if entry["target"] in taken:  # a second column of one field: left for a person
                entry.update(target=None, confidence=0.0, method=None)
            taken.add(entry["target"] or "")
        out.append(entry)
    guessing = [i for i, e in enumerate(out) if e["target"] is None and e["column"]]
    # One long frame (column, value) of the sample: samples and value shares of every column in a few
    # vectorised passes, not a pass per column and field.
    long = (cells.unpivot(variable_name="col", value_name="v").with_columns(pl.col("v").str.strip_chars())
            .filter(pl.col("v") != "") if names else pl.DataFrame(schema={"col": pl.String, "v": pl.String}))
    samples = dict(long.unique(["col", "v"], maintain_order=True).group_by("col").agg(
        pl.col("v").head(SAMPLES_SHOWN)).iter_rows())
    for idx, entry in enumerate(out):
        entry["samples"] = samples.get(names[idx], []) if idx < len(names) else []
    tests, of_field = _value_tests(domain, lists)
    wanted = [names[i] for i in guessing]
    shares: dict[str, dict[str, float]] = {}
    if tests and wanted:
        found = long.group_by("col").agg(
            expr.mean().alias(key) for key, expr in tests.items())
        shares = {row.pop("col"): row for row in found.iter_rows(named=True)}
    for idx in guessing:
        entry = out[idx]
        guess, method = _fuzzy(domain, entry["column"], taken), "fuzzy"
        if guess is None:
            by_test = shares.get(names[idx], {})
            guess = _by_values(domain, entry["column"], {f: by_test.get(t) or 0.0 for f, t in of_field.items()}, taken)
            method = "values"
        if guess is not None:
            entry.update(target=guess[0], confidence=guess[1], method=method)
            taken.add(guess[0])
    return out


def _column_index(headers: list[str], column: str) -> int:
    """The position of the column headed `column` (as written, or with spaces folded)."""
    exact = [i for i, h in enumerate(headers) if h == column]
    found = exact or [i for i, h in enumerate(headers) if clean_header(h) == clean_header(column)]
    if len(found) == 1:
        return found[0]
    named = ", ".join(repr(clean_header(h)) for h in headers if clean_header(h))
    if not found:
        raise InvalidRequest(f"mapping: the file has no column {column!r}; its columns are: {named}")
    raise InvalidRequest(f"mapping: the file has {len(found)} columns headed {column!r}; rename one of them")


def target_of(domain: Domain, column: str, target: str) -> str:
    """`target` as the canonical field name, `Custom.<NAME>` or "-"; InvalidRequest naming the column and the
    target when it is not a field of `domain`."""
    text = clean_header(str(target))
    if text == DO_NOT_IMPORT:
        return DO_NOT_IMPORT
    exact, alias, loose = _exact_targets(domain)
    key = header_key(text)
    name = exact.get(text) or loose.get(key) or alias.get(key)
    if name:
        return name
    if "." in text and header_key(text.partition(".")[0]) == "custom":
        custom = custom_target(domain, text)
        if custom:
            return custom
        raise InvalidRequest(f"mapping: column {column!r} -> {target!r}: {domain.title} imports have no custom "
                             f"fields")
    elsewhere = [d.title for d in all_domains() if d.name != domain.name and any(
        header_key(f.name) == key or key in map(header_key, f.aliases) for f in d.fields)]
    if elsewhere:
        raise InvalidRequest(f"mapping: column {column!r} -> {target!r}: {target!r} is a field of "
                             f"{' / '.join(elsewhere)} imports, not of {domain.title} imports; choose a "
                             f"{domain.title} field or {DO_NOT_IMPORT!r} (do not import)")
    raise InvalidRequest(f"mapping: column {column!r} -> {target!r}: {domain.title} has no field {target!r}; "
                         f"choose one of {', '.join(domain.field_names)}"
                         + (f", {domain.custom_prefix}<NAME>" if domain.custom_prefix else "")
                         + f" or {DO_NOT_IMPORT!r} (do not import)")


def resolve_mapping(domain: Domain, headers: list[str], mapping: dict[str, str] | None) -> dict[int, str]:
    """A chosen mapping ({header: target or "-"}) as {column index: canonical target}, checked.

    Refused (InvalidRequest, naming the column and the target): a column the file does not have, an
    unknown target, a field of another domain, and two columns that would fill one field (counting
    columns whose header names the field on its own).
    """
    out: dict[int, str] = {}
    for column, given in (mapping or {}).items():
        if given is None:
            continue
        idx = _column_index(headers, str(column))
        out[idx] = target_of(domain, clean_header(headers[idx]), given)
    owner: dict[str, int] = {}
    for idx, header in enumerate(headers):
        target = out.get(idx)
        if target is None:
            auto = automatic_target(domain, header) if clean_header(header) else None
            if auto is None:
                continue
            target = auto[0]
        if target == DO_NOT_IMPORT:
            continue
        if target in owner and (idx in out or owner[target] in out):
            first = clean_header(headers[owner[target]])
            raise InvalidRequest(f"mapping: columns {first!r} and {clean_header(header)!r} both map to {target!r}; "
                                 f"a field takes one column: map one of them elsewhere or to {DO_NOT_IMPORT!r} "
                                 f"(do not import)")
        owner.setdefault(target, idx)
    return out


def mapping_json(headers: list[str], mapping: dict[int, str]) -> dict[str, str]:
    """{header: target} of a resolved mapping (for storing and showing)."""
    return {clean_header(headers[i]): t for i, t in sorted(mapping.items())}
