"""Which file column is which domain field.

Headers are matched on a key that ignores case, spaces, underscores and
punctuation ("Date of Birth", " date_of_birth ", "DATE-OF-BIRTH" are one key),
then on the field's aliases. What does not match is reported with the closest
field, so a typo in a header is a message rather than silently lost data.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz, process

from bulkassist.spec import Domain

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_INVISIBLE = re.compile("[\ufeff\u200b\u200c\u200d\u00a0]")


@lru_cache(maxsize=8192)  # headers and field names repeat across columns, proposals and files
def header_key(header: str) -> str:
    """The matching key of a header: NFKC-folded, lower case, letters and digits only."""
    text = unicodedata.normalize("NFKC", _INVISIBLE.sub(" ", header or "")).lower()
    return _NOT_ALNUM.sub("", text)


def clean_header(header: str) -> str:
    """A header as a person would read it: invisible characters gone, spaces folded."""
    return " ".join(_INVISIBLE.sub(" ", header or "").split())


@dataclass
class HeaderMatch:
    """How the columns of one file map onto a domain."""

    fields: dict[int, str] = field(default_factory=dict)  # col_index -> field name
    custom: dict[int, str] = field(default_factory=dict)  # col_index -> "Custom.NAME"
    unknown: dict[int, str | None] = field(default_factory=dict)  # col_index -> closest field (or None)
    duplicates: dict[int, int] = field(default_factory=dict)  # col_index -> first col_index of the same field
    blank: list[int] = field(default_factory=list)  # columns with no header
    renamed: dict[int, str] = field(default_factory=dict)  # col_index -> field, matched by alias or loose key
    mapped: dict[int, str] = field(default_factory=dict)  # col_index -> target a person chose (mapping)
    skipped: list[int] = field(default_factory=list)  # columns a person chose not to import ("-")

    def column_of(self, field_name: str) -> int | None:
        for idx, name in self.fields.items():
            if name == field_name:
                return idx
        return None


def match_headers(domain: Domain, headers: list[str], mapping: dict[int, str] | None = None) -> HeaderMatch:
    """Which field each column fills. `mapping` ({column index: field, `Custom.NAME` or "-"}, checked by
    `mapping.resolve_mapping`) is what a person chose; it comes before what the headers say."""
    mapping = mapping or {}
    exact: dict[str, str] = {}
    loose: dict[str, str] = {}
    for f in domain.fields:
        exact.setdefault(header_key(f.name), f.name)
        for alias in f.aliases:
            loose.setdefault(header_key(alias), f.name)
    prefix_key = header_key(domain.custom_prefix) if domain.custom_prefix else None

    result = HeaderMatch()
    first_col: dict[str, int] = {}
    for idx, target in mapping.items():
        if target == "-":
            result.skipped.append(idx)
        elif domain.custom_prefix and target.startswith(domain.custom_prefix):
            result.custom[idx] = result.mapped[idx] = target
        else:
            first_col.setdefault(target, idx)
            result.fields[idx] = result.mapped[idx] = target
    for idx, raw in enumerate(headers):
        if idx in mapping:
            continue
        text = clean_header(raw)
        if not text:
            result.blank.append(idx)
            continue
        key = header_key(text)
        name = exact.get(key) or loose.get(key)
        if name is None and prefix_key and "." in text and header_key(text.split(".", 1)[0]) == prefix_key:
            custom_name = text.split(".", 1)[1].strip()
            if custom_name:
                result.custom[idx] = f"{domain.custom_prefix}{custom_name}"
                continue
        if name is None:
            result.unknown[idx] = closest_field(domain, text)
            continue
        if name in first_col:
            result.duplicates[idx] = first_col[name]
            continue
        first_col[name] = idx
        result.fields[idx] = name
        if text != name:
            result.renamed[idx] = name
    result.fields = dict(sorted(result.fields.items()))
    result.custom = dict(sorted(result.custom.items()))
    return result


def closest_field(domain: Domain, header: str) -> str | None:
    """The field a mistyped header most likely means, or None when nothing is close."""
    keys = [(f.name, header_key(n)) for f in domain.fields for n in (f.name, *f.aliases)]
    best = process.extractOne(header_key(header), [k for _, k in keys], scorer=fuzz.ratio, score_cutoff=70)
    return keys[best[2]][0] if best else None
