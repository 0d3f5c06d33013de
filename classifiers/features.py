"""A fast, exact re-implementation of the fitted FeatureUnion's `transform` for scoring.

scikit-learn builds character n-grams in Python for every word of every document, which caps
scoring near a thousand documents a second. A document's char_wb n-grams are the concatenation
of its words' n-grams, so we compute each distinct word's n-gram counts once (cached), and get
a batch's counts as one sparse product (documents × words) · (words × n-grams). TF-IDF weighting
and normalisation then follow scikit-learn exactly. Anything this does not reproduce (another
analyzer, stop words, a custom preprocessor) falls back to the pipeline's own `transform`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion
from sklearn.preprocessing import normalize

from classifiers.pipeline import WORD_TOKENS

WORD_CACHE_LIMIT = 50_000  # distinct words kept between batches (a few MB)


class FastFeatures:
    """`transform(texts)` equal to the fitted union's, faster; texts must be `prepare`d."""

    def __init__(self, union: FeatureUnion) -> None:
        self.union = union
        (_, chars), (_, words) = union.transformer_list
        self.chars = chars
        self.words = words
        self.supported = _supported(union, chars, words)
        if self.supported:
            self.char_analyzer = chars.build_analyzer()
            self.bigram_codes, self.bigram_columns = _bigram_index(words.vocabulary_)
            self.supported = self.bigram_codes is not None
        self.word_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        if not self.supported:
            return self.union.transform(texts).tocsr()
        batch = _Batch.of(texts)
        char_part = _tfidf(batch.occurrences() @ self._word_grams(batch.words), self.chars)
        word_part = _tfidf(self._word_counts(batch), self.words)
        return sp.hstack([char_part, word_part], format="csr")

    def _word_grams(self, words: list[str]) -> sp.csr_matrix:
        """Rows: the words; columns: the char n-gram vocabulary; values: counts."""
        if len(self.word_cache) + len(words) > WORD_CACHE_LIMIT:
            self.word_cache.clear()
        parts = [self._grams_of(word) for word in words]
        indptr = np.zeros(len(words) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum([len(indices) for indices, _ in parts])
        indices = np.concatenate([i for i, _ in parts]) if parts else np.zeros(0, np.int64)
        counts = np.concatenate([c for _, c in parts]) if parts else np.zeros(0)
        return sp.csr_matrix(
            (counts, indices, indptr), shape=(len(words), len(self.chars.vocabulary_))
        )

    def _grams_of(self, word: str) -> tuple[np.ndarray, np.ndarray]:
        cached = self.word_cache.get(word)
        if cached is None:
            vocabulary = self.chars.vocabulary_
            found: dict[int, float] = {}
            for gram in self.char_analyzer(word):
                column = vocabulary.get(gram)
                if column is not None:
                    found[column] = found.get(column, 0.0) + 1.0
            cached = (np.fromiter(found, np.int64, len(found)), np.fromiter(found.values(), float))
            self.word_cache[word] = cached
        return cached

    def _word_counts(self, batch: _Batch) -> sp.csr_matrix:
        """Unigram and bigram counts over tokens (words of two or more characters)."""
        vocabulary = self.words.vocabulary_
        unigram = np.array(
            [vocabulary.get(word, -1) if len(word) > 1 else -2 for word in batch.words],
            dtype=np.int64,
        )
        columns = unigram[batch.ids]
        is_token = columns != -2
        columns, documents = columns[is_token], batch.documents[is_token]
        known = columns >= 0
        rows, cols = [documents[known]], [columns[known]]
        if self.words.ngram_range[1] == 2 and len(columns) > 1 and len(self.bigram_codes):
            first, second = columns[:-1], columns[1:]
            pairs = (documents[:-1] == documents[1:]) & (first >= 0) & (second >= 0)
            codes = first[pairs] * len(vocabulary) + second[pairs]
            where = np.searchsorted(self.bigram_codes, codes)
            where[where == len(self.bigram_codes)] = 0
            found = self.bigram_codes[where] == codes
            rows.append(documents[:-1][pairs][found])
            cols.append(self.bigram_columns[where[found]])
        row, col = np.concatenate(rows), np.concatenate(cols)
        counts = sp.csr_matrix((np.ones(len(row)), (row, col)), shape=(batch.size, len(vocabulary)))
        counts.sum_duplicates()
        return counts


@dataclass(frozen=True)
class _Batch:
    """A batch of texts as word ids: `words[ids[k]]` is the k-th word, in `documents[k]`."""

    size: int
    words: list[str]
    ids: np.ndarray
    documents: np.ndarray

    @classmethod
    def of(cls, texts: Sequence[str]) -> _Batch:
        columns: dict[str, int] = {}
        ids: list[int] = []
        lengths: list[int] = []
        for text in texts:
            words = text.split()
            ids.extend([columns.setdefault(word, len(columns)) for word in words])
            lengths.append(len(words))
        documents = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        return cls(len(texts), list(columns), np.array(ids, dtype=np.int64), documents)

    def occurrences(self) -> sp.csr_matrix:
        """documents × words: how often each word occurs in each document."""
        matrix = sp.csr_matrix(
            (np.ones(len(self.ids)), (self.documents, self.ids)),
            shape=(self.size, len(self.words)),
        )
        matrix.sum_duplicates()
        return matrix


def _bigram_index(vocabulary: dict[str, int]) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Bigram columns keyed by (first word column × vocabulary size + second word column).

    With min_df=1 every word of a known bigram is itself in the vocabulary; if not (another
    configuration), there is no index and the caller falls back to scikit-learn.
    """
    codes, columns = [], []
    for term, column in vocabulary.items():
        if " " not in term:
            continue
        first, second = term.split(" ")
        if first not in vocabulary or second not in vocabulary:
            return None, None
        codes.append(vocabulary[first] * len(vocabulary) + vocabulary[second])
        columns.append(column)
    order = np.argsort(np.array(codes, dtype=np.int64))
    return (
        np.array(codes, dtype=np.int64)[order],
        np.array(columns, dtype=np.int64)[order],
    )


def _tfidf(counts: sp.csr_matrix, vectorizer: TfidfVectorizer) -> sp.csr_matrix:
    """What TfidfTransformer.transform does with sublinear tf, idf and l2 norm."""
    counts = counts.tocsr()
    counts.data = np.log(counts.data) + 1.0
    counts.data *= vectorizer.idf_[counts.indices]
    return normalize(counts, norm="l2", copy=False)


def _supported(union: FeatureUnion, chars: object, words: object) -> bool:
    """Only the exact configuration `build_pipeline` makes is re-implemented."""
    common = dict(
        lowercase=False,
        preprocessor=None,
        tokenizer=None,
        stop_words=None,
        binary=False,
        norm="l2",
        use_idf=True,
        sublinear_tf=True,
        strip_accents=None,
    )

    def matches(vectorizer: object, **wanted: object) -> bool:
        if not isinstance(vectorizer, TfidfVectorizer):
            return False
        params = vectorizer.get_params()
        return all(params.get(key) == value for key, value in {**common, **wanted}.items())

    return (
        union.transformer_weights is None
        and matches(chars, analyzer="char_wb")
        and matches(words, analyzer="word", token_pattern=WORD_TOKENS)
        and tuple(words.ngram_range) in {(1, 1), (1, 2)}
    )
