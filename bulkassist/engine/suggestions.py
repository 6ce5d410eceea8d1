"""Ranked suggestions for values that are not in a select list.

A value equal to an option once case and spaces are folded is a *safe* fix.
Anything else gets ranked candidates: the best `limit` options by `SCORERS` (the
one score of the engine and of the suggest endpoint), ties in list order, none
below `MIN_SCORE`. Work is per *distinct* bad value, never per cell.

The ranking is exactly that of scoring every typed value against every option,
without doing so (10k typos x 50k options would be 10^9 scores): an index of
the options' words bounds each score from above, so only options that can reach
a threshold are scored. See `ListMatcher` for the bound.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import LCSseq

from bulkassist.engine.selectlists import Choice

_SPACES = re.compile(r"\s+")
_SEPARATORS = re.compile(" ")  # hyphens too would shrink the words but weaken the search (more words a key)
MIN_SCORE = 60  # below this a candidate is noise, not a suggestion
# The score of a typed value against an option (both folded): the best of these, rounded to 0..100.
# fuzz.ratio is 200 * LCS / (len(a) + len(b)); token_sort_ratio the same on the words sorted.
SCORERS = (fuzz.ratio, fuzz.token_sort_ratio)
_LEVELS = (84, 76, MIN_SCORE)  # thresholds tried in turn until `limit` options reach one
_PAIRS = 1_000_000  # candidate pairs scored at once (bounds memory)
_CELLS = 4_000_000  # typed values x words compared at once (bounds memory)


def fold(text: str) -> str:
    """Case- and space-folded text: what a person considers 'the same value'."""
    return _SPACES.sub(" ", text).strip().casefold()


def sort_words(folded: str) -> str:
    """The words of a folded text in sorted order: what `fuzz.token_sort_ratio` compares."""
    return " ".join(sorted(folded.split(" "))) if folded else folded


def scores(texts: list[str], keys: list[str]) -> np.ndarray:
    """The score (uint8, 0..100) of each folded text against the folded key at the same position."""
    if not texts:
        return np.zeros(0, dtype=np.uint8)
    return np.maximum(*(process.cpdist(texts, keys, scorer=s, dtype=np.uint8, workers=-1) for s in SCORERS))


def score_matrix(texts: list[str], keys: list[str]) -> np.ndarray:
    """Every folded text against every folded key (texts x keys, uint8): the brute-force reference."""
    return np.maximum(*(process.cdist(texts, keys, scorer=s, dtype=np.uint8, workers=-1) for s in SCORERS))


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


class _WordIndex:
    """The keys (folded values and labels) by their words, to bound scores without computing them.

    Words here are the pieces between separators (spaces).
    For a typed text q (n characters, S separators) and a key k (m characters, r words, s >= r - 1
    separators) both scores are 200 * L / (n + m), L the longest common subsequence of q and k (or
    of their word-sorted forms, which have the same words and separators). A common subsequence pairs
    separators with separators, or letters of one word w of k with letters of q, so
    L <= U = min(n, m, sum over k's words of A(w) + min(S, s)), with A(w) the larger LCS of w with q
    and with q's sorted form: computed once per distinct word, not per key. A score rounding to
    >= T needs 200 U >= t (n + m), t = T - 1, which splits over the words:
    sum of (200 A(w) - t |w|) >= t (n + s) - 200 min(S, s) >= need(r) (its least over s >= r - 1).
    So one of the key's r words has r (200 A(w) - t |w|) >= need(r): keys are found through such
    words only, then checked against U.
    """

    def __init__(self, keys: list[str]):
        vocab: dict[str, int] = {}
        flat: list[int] = []
        counts: list[int] = []
        for key in keys:
            ids = [vocab.setdefault(w, len(vocab)) for w in _SEPARATORS.split(key) if w]
            flat.extend(ids)
            counts.append(len(ids))
        # Words by length, so a threshold on A per length compares whole column blocks.
        found = list(vocab)
        by_length = sorted(range(len(found)), key=lambda i: len(found[i]))
        renumber = np.empty(len(by_length), dtype=np.int64)
        renumber[by_length] = np.arange(len(by_length))
        self.words = [found[i] for i in by_length]
        self.word_len = np.fromiter(map(len, self.words), dtype=np.int64, count=len(self.words))
        self.lengths = np.unique(self.word_len)
        self.length_start = np.asarray(np.searchsorted(self.word_len, np.r_[self.lengths, np.iinfo(np.int64).max]))
        self.count = np.asarray(counts, dtype=np.int64)
        self.start = np.cumsum(self.count) - self.count
        self.flat = renumber[np.asarray(flat, dtype=np.int64)] if flat else np.zeros(0, np.int64)
        self.length = np.fromiter(map(len, keys), dtype=np.int64, count=len(keys))
        self.seps = np.fromiter((k.count(" ") for k in keys), dtype=np.int64, count=len(keys))
        self.max_len = int(self.length.max(initial=0))
        self.empty = np.flatnonzero(self.count == 0)  # keys without words: always candidates
        # Postings: the keys holding each word, grouped by (word, the key's word count).
        self.r_max = int(self.count.max(initial=0))
        owner = np.repeat(np.arange(len(keys)), self.count)
        group = self.flat * (self.r_max + 1) + self.count[owner]
        order = np.argsort(group, kind="stable")
        self.posting = owner[order]
        self.group_start = np.searchsorted(group[order], np.arange(len(self.words) * (self.r_max + 1) + 1))
        self.word_counts = np.unique(self.count[self.count > 0])

    def common(self, texts: list[str]) -> np.ndarray:
        """LCS of each folded text (or its word-sorted form, the larger) with each word: texts x words."""
        wide = max(map(len, texts), default=0) > 255 or self.max_len > 255
        dtype = np.int32 if wide else np.uint8
        lcs = process.cdist(texts, self.words, scorer=LCSseq.similarity, dtype=dtype, workers=-1)
        sorted_forms = [sort_words(t) for t in texts]
        differ = [i for i, (t, s) in enumerate(zip(texts, sorted_forms, strict=True)) if t != s]
        if differ:
            other = process.cdist([sorted_forms[i] for i in differ], self.words, scorer=LCSseq.similarity,
                                  dtype=dtype, workers=-1)
            lcs[differ] = np.maximum(lcs[differ], other)
        return lcs.astype(np.int16, copy=False)

    def candidates(self, lcs: np.ndarray, n: np.ndarray, seps: np.ndarray, threshold: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
        """(row, key) pairs, sorted, whose score can round to >= the row's threshold: all such pairs.

        `lcs` is `common()` for the rows' texts, `n` their lengths, `seps` their separator counts.
        """
        t = threshold.astype(np.int64) - 1  # a score rounding to >= T is >= T - 0.5: keep a margin
        found_rows, found_keys = [], []
        for r in self.word_counts.tolist():
            s = np.maximum(seps, r - 1)  # need(s) falls while s <= S, then rises
            need = t * (n + s) - 200 * np.minimum(seps, s)
            qualifies = np.empty(lcs.shape, dtype=bool)
            for length, lo, hi in zip(self.lengths.tolist(), self.length_start[:-1].tolist(),
                                      self.length_start[1:].tolist(), strict=True):
                # r (200 A - t length) >= need  <=>  A >= ceil((need + r t length) / (200 r))
                least = np.clip(-(-(need + r * t * length) // (200 * r)), 0, 32767).astype(np.int16)
                np.greater_equal(lcs[:, lo:hi], least[:, None], out=qualifies[:, lo:hi])
            rows, words = np.nonzero(qualifies)
            group = words * (self.r_max + 1) + r
            lo, hi = self.group_start[group], self.group_start[group + 1]
            sizes = hi - lo
            total = int(sizes.sum())
            found_rows.append(np.repeat(rows, sizes))
            found_keys.append(self.posting[np.repeat(lo - (np.cumsum(sizes) - sizes), sizes) + np.arange(total)])
        if self.empty.size:
            found_rows.append(np.repeat(np.arange(len(n)), self.empty.size))
            found_keys.append(np.tile(self.empty, len(n)))
        pairs = np.sort(np.concatenate(found_rows) * len(self.length) + np.concatenate(found_keys)) \
            if found_rows else np.zeros(0, np.int64)
        pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]] if pairs.size else pairs  # a key found by two words
        pair_row, pair_key = np.divmod(pairs, max(1, len(self.length)))
        if not pair_key.size:
            return pair_row, pair_key
        # The full bound over every word of each candidate key.
        count = self.count[pair_key]
        spans = np.repeat(self.start[pair_key] - (np.cumsum(count) - count), count) + np.arange(int(count.sum()))
        per_word = lcs[np.repeat(pair_row, count), self.flat[spans]]
        upper = np.bincount(np.repeat(np.arange(pair_key.size), count), weights=per_word,
                            minlength=pair_key.size).astype(np.int64)
        m = self.length[pair_key]
        upper = np.minimum(upper + np.minimum(seps[pair_row], self.seps[pair_key]), np.minimum(n[pair_row], m))
        keep = 200 * upper >= t[pair_row] * (n[pair_row] + m)
        return pair_row[keep], pair_key[keep]


class ListMatcher:
    """Matches typed values against one select list's options (values and, optionally, labels).

    Build it once per list and reuse it: the word index is made on the first fuzzy match.
    """

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
        self._key_array = np.array(keys, dtype=object)
        self._targets = np.asarray(targets, dtype=np.int64)
        folded: dict[str, set[int]] = {}
        for key, target in zip(keys, targets, strict=True):
            folded.setdefault(key, set()).add(target)
        # A folded key that names two different options is not a safe fix.
        self._safe = {k: next(iter(v)) for k, v in folded.items() if len(v) == 1}
        self._index: _WordIndex | None = None

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
        if fuzzy_at and self._keys and limit > 0:
            ranked = self._rank_fuzzy([folded[i] for i in fuzzy_at], min(limit, len(self.options)))
            for i, found in zip(fuzzy_at, ranked, strict=True):
                cands = tuple(Candidate(self.options[j][0], self.options[j][1], float(s)) for j, s in found)
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

    def prepare(self) -> ListMatcher:
        """Build the word index now (it is otherwise built on the first fuzzy match)."""
        if self._index is None and self._keys:
            self._index = _WordIndex(self._keys)
        return self

    def rank(self, text: str, limit: int = 5) -> list[Candidate]:
        """Ranked candidates for one typed value (the suggest endpoint)."""
        return list(self.match([text], limit=limit)[0].candidates)

    def _rank_fuzzy(self, queries: list[str], k: int) -> list[list[tuple[int, int]]]:
        """Per folded query, its best k (option, score) by score then list order, scores >= MIN_SCORE.

        Tried at falling thresholds T (each query's at least the k-th best score seen so far): once
        k options reach T among the candidates, which hold every key that can reach T, no other
        option can enter or reorder the top k.
        """
        index = self.prepare()._index
        assert index is not None
        found: list[list[tuple[int, int]]] = [[] for _ in queries]
        step = max(1, _CELLS // max(1, len(index.words)))
        for begin in range(0, len(queries), step):
            chunk = queries[begin:begin + step]
            lcs = index.common(chunk)
            n = np.fromiter(map(len, chunk), dtype=np.int64, count=len(chunk))
            seps = np.fromiter((q.count(" ") for q in chunk), dtype=np.int64, count=len(chunk))
            seen = np.zeros(len(chunk), dtype=np.int64)  # k-th best option score seen (0: fewer seen)
            rows = np.arange(len(chunk))
            for level in _LEVELS:
                if not rows.size:
                    break
                done = self._level(index, chunk, lcs, n, seps, rows, np.maximum(seen[rows], level), k, seen,
                                   last=level == _LEVELS[-1])
                for row, picks in done.items():
                    found[begin + row] = picks
                rows = rows[~np.isin(rows, np.fromiter(done, dtype=np.int64, count=len(done)))]
        return found

    def _level(self, index: _WordIndex, chunk: list[str], lcs: np.ndarray, n: np.ndarray, seps: np.ndarray,
               rows: np.ndarray, threshold: np.ndarray, k: int, seen: np.ndarray, *, last: bool
               ) -> dict[int, list[tuple[int, int]]]:
        """The rows settled at their thresholds, with their picks; `seen` updated for the others.

        The last level settles every row."""
        done: dict[int, list[tuple[int, int]]] = {}
        pair_row, pair_key = index.candidates(lcs[rows], n[rows], seps[rows], threshold)
        at = np.zeros(len(chunk), dtype=np.int64)
        at[rows] = threshold
        pair_row = rows[pair_row]
        for lo, hi in _batches(pair_row, _PAIRS):
            r, key = pair_row[lo:hi], pair_key[lo:hi]
            got = scores([chunk[i] for i in r], self._key_array[key].tolist()).astype(np.int64)
            keep = got >= MIN_SCORE
            r, opt, got = r[keep], self._targets[key[keep]], got[keep]
            order = np.lexsort((-got, opt, r))
            r, opt, got = r[order], opt[order], got[order]
            first = np.ones(r.size, dtype=bool)
            first[1:] = (r[1:] != r[:-1]) | (opt[1:] != opt[:-1])  # an option's best key only
            r, opt, got = r[first], opt[first], got[first]
            order = np.lexsort((opt, -got, r))  # per row: best score first, then list order
            r, opt, got = r[order], opt[order], got[order]
            if not r.size:
                continue
            starts = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
            ends = np.r_[starts[1:], r.size]
            for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
                row = int(r[s])
                reach = s + int(np.count_nonzero(got[s:e] >= at[row]))  # options reaching the threshold
                if last or reach - s >= k:
                    e = min(reach, s + k)
                    done[row] = list(zip(opt[s:e].tolist(), got[s:e].tolist(), strict=True))
                elif e - s >= k:
                    seen[row] = max(seen[row], int(got[s + k - 1]))
        if last:
            for row in rows.tolist():
                done.setdefault(row, [])
        return done


def _batches(pair_row: np.ndarray, size: int) -> list[tuple[int, int]]:
    """Slices of the (row-sorted) pairs of about `size` pairs, never splitting one row's pairs."""
    if not pair_row.size:
        return []
    bounds = np.flatnonzero(np.r_[True, pair_row[1:] != pair_row[:-1]])
    out, lo = [], 0
    for b in bounds[1:].tolist():
        if b - lo >= size:
            out.append((lo, b))
            lo = b
    out.append((lo, pair_row.size))
    return out
