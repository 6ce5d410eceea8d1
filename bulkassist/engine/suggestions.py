"""Ranked suggestions for values that are not in a select list.

A value equal to an option once case and spaces are folded is a *safe* fix.
Anything else gets ranked candidates: the best `limit` options by `SCORERS` (the
one score of the engine and of the suggest endpoint), ties in list order, none
below `MIN_SCORE`. Work is per *distinct* bad value, never per cell.

The ranking is exactly that of scoring every typed value against every option,
without doing so (10k typos x 50k options would be 10^9 scores): an index of
the options' words bounds each score from above, so only options that can reach
a threshold are scored (see `_WordIndex` for the bound), and the characters the
two texts share, order aside, bound it again before a pair is scored. Each typed
value is searched once, at the k-th best score among the options holding its best
words (scored first, a matrix per word: `ListMatcher._seed`), so the top k are kept
by thresholds, never by sorting a row of all options. A large batch is ranked in chunks (bounded
memory), two at a time on two threads where a core is idle; otherwise, or a small batch, one chunk after
the other, rapidfuzz's own threads sharing its long loops between the cores.
A small batch against a short list (a select column's bad texts) is scored pair by pair after all
(`ListMatcher._rank_all`): there the index's fixed costs are most of the work.
The suggest endpoint ranks with this same matcher (`bulkassist.server.listindex`).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import LCSseq

from bulkassist.engine.selectlists import Choice

MIN_SCORE = 60  # below this a candidate is noise, not a suggestion
# The score of a typed value against an option (both folded): the best of these, rounded to 0..100.
# fuzz.ratio is 200 * LCS / (len(a) + len(b)); token_sort_ratio the same on the words sorted.
SCORERS = (fuzz.ratio, fuzz.token_sort_ratio)
_SEEDS = 4  # words per typed value whose keys are scored first, to set its threshold (see `_seed`;
# on a 5,000-typo chunk of bench/suggest.py, 1, 2, 3 words took 2.2, 0.90, 0.77 CPU-s, and 4, 6, 8, 12
# words 0.68, 0.70, 0.81, 0.90 once the seed words no longer generated candidates)
_SEED_LEVEL = 84  # the score at which those words are chosen (the gain of the index's bound)
# Cells (or pairs) of a rapidfuzz call from which its threads pay for starting: rapidfuzz starts them per call,
# ~50-300 us (1 x 505 words: 15 against 55-340 us; 200 pairs: 18 against 70-200 us), most of a one-value search.
_THREAD_CELLS = 50_000
_PAIRS = 250_000  # candidate pairs scored at once (bounds memory)
_BUCKETS = 32  # character buckets of the order-free bound
_FEW_ROWS = 16  # typed values searched pair by pair rather than a block per word
_CELLS = 4_000_000  # typed values x words, or x keys, compared at once (bounds memory)
_THREADED_QUERIES = 5_000  # typed values from which a second thread pays for a second chunk (see `_rank_fuzzy`)
_LIGHT = 2  # letters of a light word (see `_WordIndex`)
# Every pair is scored (`ListMatcher._rank_all`) up to this many queries x keys, against at most this many
# keys: past them the word index costs less (one query x 50,000 staff names: 2 against 9 ms CPU).
_ALL_PAIRS = 1_000_000
_ALL_KEYS = 5_000
_RANKED_PAIRS = 16  # pairs reaching MIN_SCORE per query up to which `_rank_all` ranks them all


def fold(text: str) -> str:
    """Case- and space-folded text: what a person considers 'the same value'."""
    return " ".join(text.split()).casefold()  # (str.split's whitespace is \s in a regex: Py_UNICODE_ISSPACE)


def _separators(folded: str) -> int:
    return folded.count(" ") + folded.count("-")


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


@dataclass(frozen=True)
class _Texts:
    """Folded typed values and what the bounds need of them (see `_WordIndex.texts`)."""

    texts: list[str]
    sorted_forms: list[str]  # sort_words of each
    moved: np.ndarray  # the sorted form differs
    n: np.ndarray  # lengths
    seps: np.ndarray  # separator counts
    lcs: np.ndarray  # texts x (words + 1): LCS with each word of the index
    bag: np.ndarray  # texts x _BUCKETS: characters per bucket


# A chunk of typed values seeded: its texts, thresholds, (row, option, score) found, seed words (`ListMatcher._seed`).
_Seeded = tuple[_Texts, np.ndarray, tuple[np.ndarray, ...], np.ndarray]


class _WordIndex:
    """The keys (folded values and labels) by their words, to bound scores without computing them.

    Words here are the pieces between separators (spaces and hyphens): a few hundred for 50k names.
    For a typed text q (n characters, S separators) and a key k (m characters, r words, s >= r - 1
    separators) both scores are 200 * L / (n + m), L the longest common subsequence of q and k (or
    of their word-sorted forms, which have the same words and separators). A common subsequence pairs
    separators with separators, or letters of one word w of k with letters of q, so
    L <= U = min(n, m, sum over k's words of A(w) + min(S, s)), with A(w) the larger LCS of w with q
    and with q's sorted form: computed once per distinct word, not per key. A score rounding to
    >= T needs 200 U >= t (n + m), t = T - 1, which splits over the words:
    sum of (200 A(w) - t |w|) >= t (n + s) - 200 min(S, s) >= need(r) (its least over s >= r - 1).
    So one of the key's r words has r (200 A(w) - t |w|) >= need(r): keys are found through such
    words only, then checked against U, a block of (typed values x keys holding the word) at a time.
    Light words (`_LIGHT` letters or fewer: initials, 'li') add little: a key of h heavy and l light
    words (h > 0) has a heavy word with h (200 A(w) - t |w|) >= need(r) - l G, G the typed value's
    largest 200 A(w) - t |w| over all light words; keys are found through their heavy words only, by
    this bound (a tighter one: the light words of a key with a middle initial take little of the need).
    """

    def __init__(self, keys: list[str]):
        # The pieces between separators (spaces and hyphens), s + 1 per key of s separators, all keys'
        # at once; the words are those not empty (two separators meet), in the order they come.
        self.seps = np.fromiter(map(_separators, keys), dtype=np.int32, count=len(keys))
        pieces = " ".join(keys).replace("-", " ").split(" ")
        vocab = dict.fromkeys(pieces)
        vocab.pop("", None)
        self.words = list(vocab)
        self.blank = len(self.words)  # a word of no letters: its column in `common` is all 0
        number = dict(zip(self.words, range(len(self.words)), strict=True))
        number[""] = -1
        ids = np.fromiter(map(number.__getitem__, pieces), dtype=np.int64, count=len(pieces))
        owner_of = np.repeat(np.arange(len(keys)), self.seps + 1)[ids >= 0]
        flat = ids[ids >= 0]
        count = np.bincount(owner_of, minlength=len(keys)).astype(np.int64)
        self.word_len = np.fromiter(map(len, self.words), dtype=np.int32, count=len(self.words))
        self.length = np.fromiter(map(len, keys), dtype=np.int32, count=len(keys))
        self.max_len = int(self.length.max(initial=0))
        self.empty = np.flatnonzero(count == 0)  # keys without words: always candidates
        # Each key's words, padded with the blank word; an entry per (key, word position) holding the
        # key's other words, grouped by (word, the key's word count, its light words, its separators),
        # key order inside.
        self.r_max = r_max = int(count.max(initial=0))
        owner = np.repeat(np.arange(len(keys)), count)
        position = np.arange(owner.size) - np.repeat(np.cumsum(count) - count, count)
        self.key_words = key_words = np.full((len(keys), max(1, r_max)), self.blank, dtype=np.int64)
        key_words[owner, position] = flat
        self.light = np.r_[self.word_len <= _LIGHT, False]  # (the blank word is not a word of a key)
        lights = self.light[key_words].sum(axis=1)
        found_key, found_word, others = [], [], []
        for p in range(r_max):
            holding = np.flatnonzero(count > p)
            found_key.append(holding)
            found_word.append(key_words[holding, p])
            others.append(key_words[holding][:, [j for j in range(r_max) if j != p]])
        entry_key = np.concatenate(found_key) if found_key else np.zeros(0, np.int64)
        entry_word = np.concatenate(found_word) if found_word else np.zeros(0, np.int64)
        order = np.lexsort((entry_key, self.seps[entry_key], lights[entry_key], count[entry_key], entry_word))
        self.entry_key = entry_key[order]
        # A word's entries, every key holding it, are entry_key[word_lo[word]:word_hi[word]].
        self.word_lo, self.word_hi = (np.searchsorted(entry_word[order], np.arange(len(self.words)), side=side)
                                      for side in ("left", "right"))
        self.entry_others = np.concatenate(others)[order] if others else np.zeros((0, 0), np.int64)
        group = np.stack([entry_word[order], count[self.entry_key], lights[self.entry_key],
                          self.seps[self.entry_key]])
        starts = np.flatnonzero(np.r_[True, (group[:, 1:] != group[:, :-1]).any(axis=0)]) if order.size \
            else np.zeros(0, np.int64)
        groups: np.ndarray = group[:, starts] if order.size else np.zeros((4, 0), np.int64)
        self.group_word, self.group_r, self.group_l, self.group_s = groups
        self.group_lo, self.group_hi = starts, np.r_[starts[1:], order.size].astype(np.int64)
        # Per group, the other words of its keys once each (the columns of gains read for a block of rows:
        # fewer than all words, and read once), each entry's other words as positions among them.
        of_group = np.repeat(np.arange(starts.size), self.group_hi - self.group_lo)
        mine = np.arange(max(0, r_max - 1))[None, :] < (self.group_r[of_group] - 1)[:, None]
        code = of_group[:, None] * (self.blank + 1) + self.entry_others
        distinct, at = np.unique(code[mine], return_inverse=True)
        self.group_cols = distinct % (self.blank + 1)
        self.cols_lo, self.cols_hi = (np.searchsorted(distinct // (self.blank + 1), np.arange(starts.size), side=side)
                                      for side in ("left", "right"))
        self.entry_at = np.zeros_like(self.entry_others)
        self.entry_at[mine] = at.ravel() - np.broadcast_to(self.cols_lo[of_group][:, None], mine.shape)[mine]
        # Keys are found through the groups of their heavy words (through all their words when all are light):
        # per kind of key (r words, l light), those groups and their words (`at`: a group's word among them).
        source = ~self.light[self.group_word] | (self.group_r == self.group_l)
        self.kinds: list[tuple[int, int, np.ndarray, np.ndarray, np.ndarray]] = []
        for r, lights in (np.unique(groups[1:3], axis=1).T.tolist() if order.size else []):
            found = np.flatnonzero((self.group_r == r) & (self.group_l == lights) & source)
            words, at = np.unique(self.group_word[found], return_inverse=True)
            self.kinds.append((r, lights, found, words, at))
        self.sources = np.flatnonzero(source)
        # The keys' most frequent characters, a bucket each; the others share the last bucket. (Never NUL,
        # the padding of the codes; and an end mark past Unicode, so never empty.)
        codes = _codes(keys)
        seen = np.bincount(codes.ravel())
        seen[:1] = 0
        frequent = np.argsort(-seen, kind="stable")[:min(_BUCKETS - 1, np.count_nonzero(seen))]
        self.alphabet = np.r_[np.sort(frequent), 0x110000].astype(np.uint32)
        # Each code point's bucket, up to the alphabet's last (a lookup: 2.5 times a search in the alphabet).
        self.bucket_of = np.full(int(self.alphabet[:-1].max(initial=0)) + 1, _BUCKETS - 1, dtype=np.intp)
        self.bucket_of[self.alphabet[:-1]] = np.arange(self.alphabet.size - 1)
        self.bag = self.bags(keys, codes)

    def texts(self, texts: list[str], workers: int = -1) -> _Texts:
        """Folded typed values with what the bounds need of them (`workers`: rapidfuzz's threads)."""
        sorted_forms = [sort_words(t) for t in texts]
        wide = max(map(len, texts), default=0) > 255 or self.max_len > 255
        dtype = np.int32 if wide else np.uint8
        # LCS of each text (or its word-sorted form, the larger) with each word, 0 with the blank word.
        lcs = np.zeros((len(texts), len(self.words) + 1), dtype=np.int32)
        workers = _workers(workers, len(texts) * len(self.words))
        if self.words:
            lcs[:, :-1] = process.cdist(texts, self.words, scorer=LCSseq.similarity, dtype=dtype, workers=workers)
        differ = [i for i, (t, s) in enumerate(zip(texts, sorted_forms, strict=True)) if t != s]
        if differ and self.words:
            other = process.cdist([sorted_forms[i] for i in differ], self.words, scorer=LCSseq.similarity,
                                  dtype=dtype, workers=workers)
            lcs[differ, :-1] = np.maximum(lcs[differ, :-1], other)
        n = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        moved = np.zeros(len(texts), dtype=bool)
        moved[differ] = True
        seps = np.fromiter(map(_separators, texts), dtype=np.int64, count=len(texts))
        return _Texts(texts, sorted_forms, moved, n, seps, lcs, self.bags(texts, _codes(texts)))

    def bags(self, texts: list[str], codes: np.ndarray) -> np.ndarray:
        """How many characters of each bucket each text holds (texts x _BUCKETS): LCS <= the sum over
        buckets of the lesser count of two texts, whatever the characters' order. `codes`: `_codes(texts)`."""
        width = codes.shape[1]
        dtype = np.uint8 if max(width, self.max_len) <= 255 else np.uint16
        if not width:
            return np.zeros((len(texts), _BUCKETS), dtype=dtype)
        # Each code's bucket (the padding's too: taken off below), the last for codes past the alphabet's.
        inside = codes < self.bucket_of.size
        bucket = np.where(inside, self.bucket_of[np.where(inside, codes, 0)], _BUCKETS - 1)
        counts = np.bincount((np.arange(len(texts))[:, None] * _BUCKETS + bucket).ravel(),
                             minlength=len(texts) * _BUCKETS).reshape(len(texts), _BUCKETS)
        counts[:, -1] -= width - np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        return counts.astype(dtype)

    def candidates(self, typed: _Texts, rows: np.ndarray, threshold: np.ndarray,
                   known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row, key) pairs, sorted, whose score can round to >= the row's threshold: all such pairs but
        those of keys holding one of the row's `known` words (rows x n, all of `typed`: their keys are
        scored already). Some of those may still be among the pairs.

        `rows` are the rows of `typed` to search, `threshold` theirs; the pairs name rows of `typed`.
        """
        lcs, n, seps = typed.lcs[rows], typed.n[rows], typed.seps[rows]
        t = threshold.astype(np.int64) - 1  # a score rounding to >= T is >= T - 0.5: keep a margin
        # Per word, 200 A(w) - t |w|: a key can reach T when its words' sum is >= need(s) (0: blank word).
        gain = 200 * lcs - t[:, None].astype(np.int32) * np.r_[self.word_len, 0]
        # (int16 halves the bytes read when no sum of gains can overflow it)
        gain = gain.astype(np.int16 if 200 * self.r_max * self.max_len < 2 ** 15 else np.int32)
        found_rows: list[np.ndarray] = []
        found_keys: list[np.ndarray] = []
        light = np.flatnonzero(self.light[:-1])
        most = gain[:, light].max(axis=1).astype(np.int64) if light.size else np.zeros(rows.size, np.int64)
        if rows.size <= _FEW_ROWS:  # a few typed values (the suggest endpoint): every group at once
            self._expand(gain, t, n, seps, most, known[rows], found_rows, found_keys)
            return self._checked(typed, rows, t, n, found_rows, found_keys)
        word_gain = np.ascontiguousarray(gain.T)  # a word's gains for every row, read at once
        known_rows = np.broadcast_to(np.arange(rows.size)[:, None], known[rows].shape)
        need: dict[int, np.ndarray] = {}  # per separator count of the keys: t (n + s) - 200 min(S, s), every row
        for r, lights, groups, words, at in self.kinds:
            heavy = r - lights if lights < r else r  # (all light: found through any word, r shares)
            least = np.maximum(seps, r - 1)  # need(s) falls while s <= S, then rises
            share = t * (n + least) - 200 * np.minimum(seps, least) - (lights * most if lights < r else 0)
            by_word = heavy * word_gain[words] >= share  # words x rows
            # (not through a known word: its keys are found another way)
            spot = np.minimum(np.searchsorted(words, known[rows]), words.size - 1)
            hit = words[spot] == known[rows]
            by_word[spot[hit], known_rows[hit]] = False
            live = by_word.any(axis=1)[at]
            wanted, word_at = groups[live], at[live]
            for g, w in zip(wanted.tolist(), word_at.tolist(), strict=True):
                word, key_seps, lo, hi = (int(x) for x in (self.group_word[g], self.group_s[g], self.group_lo[g],
                                                           self.group_hi[g]))
                keys, others = self.entry_key[lo:hi], self.entry_at[lo:hi, :r - 1]
                columns = self.group_cols[self.cols_lo[g]:self.cols_hi[g]]
                reaching = np.flatnonzero(by_word[w])
                # What the other words must add up to for each typed value.
                if key_seps not in need:
                    need[key_seps] = t * (n + key_seps) - 200 * np.minimum(seps, key_seps)
                short = need[key_seps][reaching] - word_gain[word][reaching]
                step = max(1, _CELLS // (hi - lo))
                for begin in range(0, reaching.size, step):
                    block = reaching[begin:begin + step]
                    if r == 1:
                        reach = np.broadcast_to((short[begin:begin + step] <= 0)[:, None], (block.size, keys.size))
                    else:
                        added = _gathered(gain, block, columns, others)
                        reach = added >= short[begin:begin + step, None]
                    at_, of = np.divmod(np.flatnonzero(reach), keys.size)  # (2-D np.nonzero is slower)
                    found_rows.append(block[at_])
                    found_keys.append(keys[of])
        return self._checked(typed, rows, t, n, found_rows, found_keys)

    def _checked(self, typed: _Texts, rows: np.ndarray, t: np.ndarray, n: np.ndarray, found_rows: list,
                 found_keys: list) -> tuple[np.ndarray, np.ndarray]:
        """`candidates`' pairs found (row positions in `rows`, keys) checked by the characters' bound, once each."""
        if self.empty.size:
            found_rows.append(np.repeat(np.arange(len(n)), self.empty.size))
            found_keys.append(np.tile(self.empty, len(n)))
        if not found_rows:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        pair_row, pair_key = np.concatenate(found_rows), np.concatenate(found_keys)
        # The characters' bound, order aside, where the words counted a letter of the text twice; checked
        # before the pairs found twice are dropped, as it keeps few of them: fewer to sort.
        keep = np.zeros(pair_row.size, dtype=bool)
        for lo in range(0, pair_row.size, _PAIRS):
            row, key = pair_row[lo:lo + _PAIRS], pair_key[lo:lo + _PAIRS]
            common = _common(_rows(typed.bag, rows[row]), _rows(self.bag, key))
            keep[lo:lo + _PAIRS] = 200 * common >= t[row] * (n[row] + self.length[key])
        # A key is found through each of its qualifying words: once is enough.
        pairs = np.sort(pair_row[keep] * len(self.length) + pair_key[keep])
        pair_row, pair_key = np.divmod(pairs[np.r_[pairs[:1] == pairs[:1], pairs[1:] != pairs[:-1]]],
                                       max(1, len(self.length)))
        return rows[pair_row], pair_key

    def _expand(self, gain: np.ndarray, t: np.ndarray, n: np.ndarray, seps: np.ndarray, most: np.ndarray,
                known: np.ndarray, found_rows: list, found_keys: list) -> None:
        """`candidates` for a few rows: every group of every kind of key at once, every (row, key) checked
        against the sum of all its words' gains (the blank word's is 0)."""
        g = self.sources
        r, lights, word = self.group_r[g], self.group_l[g], self.group_word[g]
        least = np.maximum(seps[:, None], r - 1)
        share = (t[:, None] * (n[:, None] + least) - 200 * np.minimum(seps[:, None], least)
                 - np.where(lights < r, lights, 0) * most[:, None])
        qualifies = np.where(lights < r, r - lights, r) * gain[:, word] >= share
        qualifies &= ~(word == known[:, :, None]).any(axis=1)  # (not through a known word)
        at, of = np.divmod(np.flatnonzero(qualifies), g.size)
        group = g[of]
        lo, key_seps = self.group_lo[group], self.group_s[group]
        sizes = self.group_hi[group] - lo
        short = (t[at] * (n[at] + key_seps) - 200 * np.minimum(seps[at], key_seps)
                 - gain[at, self.group_word[group]])
        entry = np.repeat(lo - (np.cumsum(sizes) - sizes), sizes) + np.arange(int(sizes.sum()))
        row = np.repeat(at, sizes)
        flat = row * gain.shape[1]
        added = np.zeros(row.size, dtype=np.int64)
        for j in range(self.entry_others.shape[1]):
            added += np.take(gain, flat + self.entry_others[entry, j])
        reach = added >= np.repeat(short, sizes)
        found_rows.append(row[reach])
        found_keys.append(self.entry_key[entry[reach]])


class ListMatcher:
    """Matches typed values against one select list's options (values and, optionally, labels).

    Build it once per list and reuse it: the word index is made on the first fuzzy match.
    """

    def __init__(self, options: list[Choice], *, match_labels: bool = False):
        self.options = options
        self.match_labels = match_labels
        keys = [fold(value) for value, _ in options]
        targets = list(range(len(options)))
        if match_labels:
            keys, targets = [], []
            for i, (value, label) in enumerate(options):
                keys.append(fold(value))
                targets.append(i)
                if label and fold(label) != keys[-1]:
                    keys.append(fold(label))
                    targets.append(i)
        self._keys = keys
        self._key_array = np.array(keys, dtype=object)
        self._sorted_keys = np.array([sort_words(k) for k in keys], dtype=object)
        self._moved = self._sorted_keys != self._key_array  # keys whose words are not in sorted order
        self._targets = np.asarray(targets, dtype=np.int64)
        # A folded key that names two different options is not a safe fix.
        self._safe: dict[str, int] = {}
        clash = [key for key, target in zip(keys, targets, strict=True) if self._safe.setdefault(key, target) != target]
        for key in clash:
            self._safe.pop(key, None)
        self._index: _WordIndex | None = None
        self._repeats = np.zeros(0, dtype=bool)  # per word of the index (`prepare`)

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
            queries = [folded[i] for i in fuzzy_at]
            few = len(self._keys) <= _ALL_KEYS and len(queries) * len(self._keys) <= _ALL_PAIRS
            rank = self._rank_all if few else self._rank_fuzzy
            ranked = rank(queries, min(limit, len(self.options)))
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
            index = _WordIndex(self._keys)
            # Words holding an option twice (its value and label, or a key with the word twice): their
            # seed matrices keep each option's best key.
            word = np.repeat(np.arange(len(index.words)), index.word_hi - index.word_lo)
            pairs = np.sort(word * len(self.options) + self._targets[index.entry_key])
            self._repeats = np.zeros(len(index.words), dtype=bool)
            self._repeats[pairs[1:][pairs[1:] == pairs[:-1]] // max(1, len(self.options))] = True
            self._index = index
        return self

    def rank(self, text: str, limit: int = 5) -> list[Candidate]:
        """Ranked candidates for one typed value (the suggest endpoint)."""
        return list(self.match([text], limit=limit)[0].candidates)

    def _rank_fuzzy(self, queries: list[str], k: int) -> list[list[tuple[int, int]]]:
        """Per folded query, its best k (option, score) by score then list order, scores >= MIN_SCORE.

        Searched at one threshold T per query: the k-th best score among a few options scored first
        (`_seed`), or MIN_SCORE. k options reach T, and the candidates hold every key that can reach T,
        so no other option can enter or reorder the top k.
        """
        index = self.prepare()._index
        assert index is not None
        # Chunks of queries bound memory. Where a core is idle, two threads rank a large batch's chunks:
        # rapidfuzz and numpy let go of the GIL in their long calls; each thread's rapidfuzz calls keep to
        # one core (`workers=1`). The last minute's load average decides, and it counts this process too
        # when it has been busy: at a load of 2.1-2.4 on 2 cores two threads took 1.4 s wall against 2.2 s
        # for one (bench/suggest.py), at 4-6 no less, for ~0.2 CPU-s more (the threads' short numpy calls
        # wait on each other's GIL, a second chunk costs its fixed part again). Otherwise one chunk after
        # the other, rapidfuzz's threads sharing its long calls between the cores.
        largest = max(1, _CELLS // max(1, len(index.words)))
        threads = 2 if len(queries) >= _THREADED_QUERIES and _idle_cores() > -1 else 1
        chunks = -(-len(queries) // largest)  # ceiling divisions: the fewest chunks, then their equal size
        chunks = -(-chunks // threads) * threads  # (a multiple of the threads: they finish together)
        step = -(-len(queries) // chunks)
        parts = [queries[begin:begin + step] for begin in range(0, len(queries), step)]
        if threads == 1:
            return [found for part in parts for found in self._rank_chunk(index, self._seed(index, part, k, -1), k, -1)]
        with ThreadPoolExecutor(threads) as pool:
            ranked = list(pool.map(lambda part: self._rank_chunk(index, self._seed(index, part, k, 1), k, 1), parts))
        return [found for part in ranked for found in part]

    def _rank_chunk(self, index: _WordIndex, seeded: _Seeded, k: int,
                    workers: int) -> list[list[tuple[int, int]]]:
        """`_rank_fuzzy` of one chunk of queries, seeded (`_seed`)."""
        typed, threshold, seeds, seeded_words = seeded
        pair_row, pair_key = index.candidates(typed, np.arange(len(typed.texts)), threshold, seeded_words)
        rows, options, scores = [seeds[0]], [seeds[1]], [seeds[2]]
        for lo in range(0, pair_row.size, _PAIRS):
            r, key = pair_row[lo:lo + _PAIRS], pair_key[lo:lo + _PAIRS]
            # Keys holding a seed word of their row were all scored by `_seed`: not again.
            words, fresh = index.key_words[key], np.ones(key.size, dtype=bool)
            for seed in seeded_words[r].T:
                fresh &= ~(words == seed[:, None]).any(axis=1)
            r, key = r[fresh], key[fresh]
            got = self._scores(typed, r, key, workers)
            keep = got >= threshold[r]  # (only options reaching the threshold can be picked)
            rows.append(r[keep])
            options.append(self._targets[key[keep]])
            scores.append(got[keep])
        r, opt, got = self._best(np.concatenate(rows), np.concatenate(options), np.concatenate(scores))
        return self._top(len(typed.texts), r, opt, got, k)

    def _rank_all(self, queries: list[str], k: int) -> list[list[tuple[int, int]]]:
        """`_rank_fuzzy` by scoring every folded query against every key (`score_matrix`, on one thread).

        For a small batch against a short list (a select column's few bad texts, 800 typos of 800 staff names;
        `_ALL_PAIRS`, `_ALL_KEYS`) this costs less than the word index, whose fixed costs per call and per seed
        word are most of the work there (800 x 800 names: 15 against 45 ms CPU, 64 ms with the index built).
        Each query's options at or above its k-th best score (ties included) are ranked as `_rank_chunk`'s.
        """
        got = process.cdist(queries, self._keys, scorer=fuzz.ratio, dtype=np.uint8, workers=1)
        # token_sort_ratio differs from fuzz.ratio only where a side's words move when sorted: the queries that
        # move against every key, the others against the keys that move (800 typos x 800 staff names, 37% and
        # 40% of them moving: 62% of the pairs scored again, not all).
        sorted_forms = [sort_words(q) for q in queries]
        moved = np.flatnonzero([s != q for s, q in zip(sorted_forms, queries, strict=True)])
        if moved.size:
            rows = got[moved]
            np.maximum(rows, process.cdist([sorted_forms[i] for i in moved.tolist()], self._sorted_keys.tolist(),
                                           scorer=fuzz.ratio, dtype=np.uint8, workers=1), out=rows)
            got[moved] = rows
        keys = np.flatnonzero(self._moved)
        if keys.size and moved.size < len(queries):
            still = np.setdiff1d(np.arange(len(queries)), moved, assume_unique=True)
            block = got[np.ix_(still, keys)]
            np.maximum(block, process.cdist([queries[i] for i in still.tolist()], self._sorted_keys[keys].tolist(),
                                            scorer=fuzz.ratio, dtype=np.uint8, workers=1), out=block)
            got[np.ix_(still, keys)] = block
        if len(self._keys) > len(self.options):  # an option's value and label (keys in option order): its best
            got = np.maximum.reduceat(got, np.flatnonzero(np.r_[True, self._targets[1:] != self._targets[:-1]]),
                                      axis=1)
        # Each query's first k pairs reaching MIN_SCORE, best first (`_top`): ranked among those pairs alone when
        # they are few (a typo is near a handful of names; 800 typos x 800 staff names: 9 against 11 ms CPU),
        # else among those reaching each row's k-th best score too, found by partitioning every row.
        n = len(self.options)
        reach = got >= MIN_SCORE
        if n > k and np.count_nonzero(reach) > _RANKED_PAIRS * len(queries):
            reach &= got >= np.partition(got, n - k, axis=1)[:, n - k, None]
        rows, options = np.divmod(np.flatnonzero(reach), got.shape[1])  # (2-D np.nonzero is slower)
        r, opt, score = self._best(rows, options, got[rows, options].astype(np.int64))
        return self._top(len(queries), r, opt, score, k)

    @staticmethod
    def _top(n: int, r: np.ndarray, opt: np.ndarray, got: np.ndarray, k: int) -> list[list[tuple[int, int]]]:
        """Per query of `n`, its first k (option, score) of the pairs `_best` ordered: its options reaching its
        threshold, best first, k of them or fewer where the threshold is MIN_SCORE."""
        starts = np.flatnonzero(np.r_[True, r[1:] != r[:-1]]) if r.size else np.zeros(0, np.int64)
        counts = np.minimum(np.diff(np.r_[starts, r.size]), k)
        found: list[list[tuple[int, int]]] = [[] for _ in range(n)]
        picked, scored = opt.tolist(), got.tolist()
        for row, start, count in zip(r[starts].tolist(), starts.tolist(), counts.tolist(), strict=True):
            found[row] = list(zip(picked[start:start + count], scored[start:start + count], strict=True))
        return found

    def _seed(self, index: _WordIndex, queries: list[str], k: int, workers: int) -> _Seeded:
        """Per typed value (with what the bounds need of it: `_WordIndex.texts`), its threshold: a score k
        options reach (MIN_SCORE where fewer than k were seen), the k-th best among the keys holding one of
        the value's `_SEEDS` best words (the largest gains at `_SEED_LEVEL`: long words most of whose letters
        the value holds), scored exactly, a matrix per word. With it, the (row, option, score) seen reaching
        the threshold, and the seed words (rows x seeds).

        A typo of a name keeps most of one of its words, and the names nearest it share that word, so
        the threshold is most often the k-th best score itself: the lowest the search can have."""
        typed = index.texts(queries, workers)
        rows_n = len(typed.texts)
        if not index.words:
            empty = np.zeros(0, np.int64)
            return typed, np.full(rows_n, MIN_SCORE, np.int64), (empty, empty, empty), np.zeros((rows_n, 0), np.int64)
        gain = 200 * typed.lcs[:, :-1] - (_SEED_LEVEL - 1) * index.word_len
        take = min(_SEEDS, len(index.words))
        best = np.argpartition(-gain, take - 1, axis=1)[:, :take] if take < len(index.words) else \
            np.broadcast_to(np.arange(take), (rows_n, take))
        # Each word once, with every row it is a seed of.
        order = np.argsort(best, axis=None, kind="stable")
        words, owners = best.ravel()[order], order // take
        starts = np.flatnonzero(np.r_[True, words[1:] != words[:-1]])
        found_rows, found_options, found_scores = [], [], []
        for lo, hi in zip(starts.tolist(), np.r_[starts[1:], words.size].tolist(), strict=True):
            word, rows = int(words[lo]), owners[lo:hi]
            keys = index.entry_key[index.word_lo[word]:index.word_hi[word]]
            got, options = self._matrix(typed, rows, keys, workers), self._targets[keys]
            if self._repeats[word]:  # an option's value and label: its best key
                by = np.argsort(options, kind="stable")
                options = options[by]
                cut = np.flatnonzero(np.r_[True, options[1:] != options[:-1]])
                got, options = np.maximum.reduceat(got[:, by], cut, axis=1), options[cut]
            # Per row the options at or above its k-th best here (ties included): the threshold is no lower.
            kth = np.partition(got, options.size - k, axis=1)[:, options.size - k] if options.size > k else \
                np.zeros(rows.size, np.uint8)
            at, of = np.nonzero(got >= np.maximum(kth, MIN_SCORE)[:, None])
            found_rows.append(rows[at])
            found_options.append(options[of])
            found_scores.append(got[at, of].astype(np.int64))
        r, opt, got = self._best(np.concatenate(found_rows), np.concatenate(found_options),
                                 np.concatenate(found_scores))
        threshold = np.full(rows_n, MIN_SCORE, np.int64)
        starts = np.flatnonzero(np.r_[True, r[1:] != r[:-1]]) if r.size else np.zeros(0, np.int64)
        enough = np.diff(np.r_[starts, r.size]) >= k
        threshold[r[starts[enough]]] = np.maximum(got[starts[enough] + k - 1], MIN_SCORE)
        keep = got >= threshold[r]
        return typed, threshold, (r[keep], opt[keep], got[keep]), best

    @staticmethod
    def _best(rows: np.ndarray, options: np.ndarray, got: np.ndarray) -> tuple[np.ndarray, ...]:
        """Scored (row, option) pairs, MIN_SCORE and over, an option's best once, per row (rows in order)
        best score first, then list order."""
        keep = got >= MIN_SCORE
        r, opt, got = rows[keep], options[keep], got[keep]
        if not r.size:
            return r, opt, got
        # Each order as one integer key (a score is 0..100), sorted once: several times faster than lexsort's
        # three passes (800 typos x 800 staff names: 9k pairs). Pairs equal in all three are alike, in any order.
        # (A key stays below rows x options x 256: far within int64 for any score matrix that fits in memory.)
        width = int(opt.max()) + 1
        order = np.argsort((r.astype(np.int64) * width + opt) * 256 + (255 - got))
        r, opt, got = r[order], opt[order], got[order]
        first = np.ones(r.size, dtype=bool)
        first[1:] = (r[1:] != r[:-1]) | (opt[1:] != opt[:-1])  # an option's best key only
        r, opt, got = r[first], opt[first], got[first]
        # (r, score, option): distinct keys, as no option is left twice in a row
        order = np.argsort((r.astype(np.int64) * 256 + (255 - got)) * width + opt)
        return r[order], opt[order], got[order]

    def _matrix(self, typed: _Texts, rows: np.ndarray, keys: np.ndarray, workers: int) -> np.ndarray:
        """`score_matrix` of the typed values at `rows` against the keys at `keys` (uint8)."""
        workers = _workers(workers, rows.size * keys.size)
        got = process.cdist([typed.texts[i] for i in rows.tolist()], self._key_array[keys].tolist(),
                            scorer=fuzz.ratio, dtype=np.uint8, workers=workers)
        if typed.moved[rows].any() or self._moved[keys].any():
            np.maximum(got, process.cdist([typed.sorted_forms[i] for i in rows.tolist()],
                                          self._sorted_keys[keys].tolist(), scorer=fuzz.ratio, dtype=np.uint8,
                                          workers=workers), out=got)
        return got

    def _scores(self, typed: _Texts, rows: np.ndarray, keys: np.ndarray, workers: int) -> np.ndarray:
        """`scores` of the typed values at `rows` against the keys at `keys`, pair by pair (int64).

        token_sort_ratio is fuzz.ratio of the word-sorted forms: sorted once per text, not per pair,
        and not compared again where neither side changes when sorted."""
        texts = [typed.texts[i] for i in rows.tolist()]
        workers = _workers(workers, rows.size)
        got = process.cpdist(texts, self._key_array[keys].tolist(), scorer=fuzz.ratio, dtype=np.uint8,
                             workers=workers).astype(np.int64)
        moved = np.flatnonzero(self._moved[keys] | typed.moved[rows])
        if moved.size:
            other = process.cpdist([typed.sorted_forms[i] for i in rows[moved].tolist()],
                                   self._sorted_keys[keys[moved]].tolist(), scorer=fuzz.ratio, dtype=np.uint8,
                                   workers=workers)
            got[moved] = np.maximum(got[moved], other)
        return got


def _workers(workers: int, cells: int) -> int:
    """rapidfuzz's `workers` for a call of `cells` scores: one thread below `_THREAD_CELLS`."""
    return workers if cells >= _THREAD_CELLS else 1


def _idle_cores() -> float:
    """Cores this process may use that the last minute's load average leaves idle (negative: overloaded)."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return usable - os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0


def _codes(texts: list[str]) -> np.ndarray:
    """The texts' code points (texts x the longest, uint32), padded with 0."""
    width = max(map(len, texts), default=0)
    return np.array(texts, dtype=f"<U{max(1, width)}").view(np.uint32).reshape(len(texts), max(1, width))[:, :width]


def _gathered(table: np.ndarray, rows: np.ndarray, columns: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The sum over j of table[np.ix_(rows, columns[at[:, j]])]: the columns read once per row first
    (several times faster than reading table[rows] at each column of `at`)."""
    some = table[rows][:, columns]
    total = some[:, at[:, 0]]
    for j in range(1, at.shape[1]):
        total += some[:, at[:, j]]
    return total


def _common(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per row of two bag tables, the sum over buckets of the lesser count (int64)."""
    least = np.minimum(a, b)
    if least.dtype != np.uint8:
        return least.sum(axis=1, dtype=np.int64)
    # Bytes (texts of at most 255 characters: no sum of counts passes 255, so no byte carries into the
    # next): the four 8-byte words added, then their bytes added by a multiplication (twice as fast).
    words = least.view(np.uint64)
    total = words[:, 0].copy()
    for j in range(1, words.shape[1]):
        total += words[:, j]
    return ((total * np.uint64(0x0101010101010101)) >> np.uint64(56)).astype(np.int64)


def _rows(table: np.ndarray, at: np.ndarray) -> np.ndarray:
    """table[at] for a table of 32 or 64 bytes a row, read as 8-byte words (several times faster)."""
    words = table.view(np.uint64)
    return np.take(words, at, axis=0).view(table.dtype)
