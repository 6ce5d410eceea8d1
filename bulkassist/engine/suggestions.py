"""Ranked suggestions for values that are not in a select list.

A value equal to an option once case and spaces are folded is a *safe* fix.
Anything else gets ranked candidates scored by rapidfuzz (`cdist`, so ten
thousand distinct typos against two thousand options is one matrix, not a
Python loop per pair). Work is per *distinct* bad value, never per cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from bulkassist.engine.selectlists import Choice

_SPACES = re.compile(r"\s+")
MIN_SCORE = 60  # below this a candidate is noise, not a suggestion


def fold(text: str) -> str:
    """Case- and space-folded text: what a person considers 'the same value'."""
    return _SPACES.sub(" ", text).strip().casefold()


@dataclass(frozen=True)
class Candidate:
    value: str
    label: str
    score: float  # 0..100


@dataclass(frozen=True)
class Match:
    """The best reading of one typed value."""

    suggestion: str | None
    confidence: float | None  # 0..1
    safe: bool
    candidates: tuple[Candidate, ...]


class ListMatcher:
    """Matches typed values against one select list's options (values and, optionally, labels)."""

    def __init__(self, options: list[Choice], *, match_labels: bool = False):
        self.options = options
        self.match_labels = match_labels
        keys: list[str] = []
        targets: list[int] = []
        for i, (value, label) in enumerate(options):
            keys.append(fold(value))
            targets.append(i)
            if match_labels and label and fold(label) != fold(value):
                keys.append(fold(label))
                targets.append(i)
        self._keys = keys
        self._targets = np.asarray(targets, dtype=np.int64)
        folded: dict[str, set[int]] = {}
        for key, target in zip(keys, targets, strict=True):
            folded.setdefault(key, set()).add(target)
        # A folded key that names two different options is not a safe fix.
        self._safe = {k: next(iter(v)) for k, v in folded.items() if len(v) == 1}

    def match(self, texts: list[str], limit: int = 3) -> list[Match]:
        """One Match per text, in order."""
        if not texts:
            return []
        folded = [fold(t) for t in texts]
        results: list[Match | None] = [None] * len(texts)
        fuzzy_at: list[int] = []
        for i, key in enumerate(folded):
            hit = self._safe.get(key)
            if hit is not None:
                value, label = self.options[hit]
                results[i] = Match(value, 1.0, True, (Candidate(value, label, 100.0),))
            else:
                fuzzy_at.append(i)
        if fuzzy_at and self._keys:
            queries = [folded[i] for i in fuzzy_at]
            scores = np.maximum(
                process.cdist(queries, self._keys, scorer=fuzz.ratio, dtype=np.uint8, workers=-1),
                process.cdist(queries, self._keys, scorer=fuzz.token_sort_ratio, dtype=np.uint8, workers=-1),
            )
            # Collapse value/label keys onto their option: best score per option.
            per_option = np.zeros((len(queries), len(self.options)), dtype=np.uint8)
            np.maximum.at(per_option, (slice(None), self._targets), scores)
            k = min(limit, per_option.shape[1])
            top = np.argsort(-per_option.astype(np.int16), axis=1, kind="stable")[:, :k]
            for row, i in enumerate(fuzzy_at):
                cands = tuple(
                    Candidate(self.options[j][0], self.options[j][1], float(per_option[row, j]))
                    for j in top[row]
                    if per_option[row, j] >= MIN_SCORE
                )
                best = cands[0] if cands else None
                results[i] = Match(
                    best.value if best else None,
                    round(best.score / 100, 2) if best else None,
                    False,
                    cands,
                )
        for i in range(len(results)):
            if results[i] is None:
                results[i] = Match(None, None, False, ())
        return results  # type: ignore[return-value]

    def rank(self, text: str, limit: int = 5) -> list[Candidate]:
        """Ranked candidates for one typed value (the suggest endpoint)."""
        return list(self.match([text], limit=limit)[0].candidates)
