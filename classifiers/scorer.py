"""Scoring with a trained model from its plain arrays: numpy and SciPy, never scikit-learn.

A model is trained with scikit-learn (`classifiers.model`), but what scoring needs of it is
small: the two vocabularies with their idf, the linear coefficients and intercept, and the
two numbers of the sigmoid calibration. `LinearParts` holds them; `Scorer` turns documents
into the same probabilities as the fitted pipeline. The running service loads only these,
so it never pays for importing scikit-learn (about 90 MB of its resident memory).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from classifiers.corpus import Document
from classifiers.features import FeatureCounter, char_wb_ngrams, normalised_dot, tfidf
from classifiers.pipeline import PipelineConfig, prepare

ARRAYS = ("char_terms", "word_terms", "char_idf", "word_idf", "coefficients", "numbers")


@dataclass(frozen=True)
class Term:
    """A word or word pair of the document and how far it moved the linear model's decision.

    Positive weights pushed towards "relevant", negative ones away; the calibrated score is a
    monotonic function of the sum.
    """

    term: str
    weight: float


@dataclass(frozen=True)
class Prediction:
    lang: str
    score: float  # calibrated probability of "relevant", 0–1
    relevant: bool  # score >= the model's alert threshold
    terms: tuple[Term, ...] = ()


@dataclass(frozen=True, eq=False)
class LinearParts:
    """What scoring needs of a fitted pipeline; a vectorizer's columns are its terms in order."""

    char_terms: np.ndarray  # str, one per char n-gram column
    word_terms: np.ndarray  # str, one per word (and word pair) column
    char_idf: np.ndarray
    word_idf: np.ndarray
    coefficients: np.ndarray  # char columns first, then word columns
    intercept: float
    sigmoid: tuple[float, float]  # P(relevant) = 1 / (1 + exp(a · decision + b))

    def __post_init__(self) -> None:
        chars, words = len(self.char_terms), len(self.word_terms)
        if self.char_terms.dtype.kind != "U" or self.word_terms.dtype.kind != "U":
            raise ValueError("the vocabularies are not arrays of terms")
        shapes = (self.char_idf.shape, self.word_idf.shape, self.coefficients.shape)
        if shapes != ((chars,), (words,), (chars + words,)):
            raise ValueError(f"array shapes {shapes} do not fit {chars} + {words} terms")
        numbers = [*self.sigmoid, self.intercept]
        if not all(math.isfinite(number) for number in numbers):
            raise ValueError("the intercept or the calibration is not a finite number")

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The parts as named numpy arrays (what `np.savez` writes; nothing needs pickle)."""
        numbers = np.array([self.intercept, *self.sigmoid], dtype=np.float64)
        return {
            "char_terms": self.char_terms,
            "word_terms": self.word_terms,
            "char_idf": self.char_idf,
            "word_idf": self.word_idf,
            "coefficients": self.coefficients,
            "numbers": numbers,
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> LinearParts:
        missing = [name for name in ARRAYS if name not in arrays]
        if missing:
            raise ValueError(f"missing array(s) {', '.join(missing)}")
        numbers = np.asarray(arrays["numbers"], dtype=np.float64)
        if numbers.shape != (3,):
            raise ValueError(f"'numbers' holds {numbers.shape} values, not 3")
        intercept, a, b = (float(number) for number in numbers)
        return cls(
            char_terms=arrays["char_terms"],
            word_terms=arrays["word_terms"],
            char_idf=np.asarray(arrays["char_idf"], dtype=np.float64),
            word_idf=np.asarray(arrays["word_idf"], dtype=np.float64),
            coefficients=np.asarray(arrays["coefficients"], dtype=np.float64),
            intercept=intercept,
            sigmoid=(a, b),
        )


@dataclass(frozen=True, eq=False)
class Scorer:
    """Calibrated scores, the alert threshold and explanations of one model version."""

    parts: LinearParts = field(repr=False)
    config: PipelineConfig
    threshold: float
    version: str = "unsaved"

    def scores(self, documents: Sequence[Document]) -> list[float]:
        if not documents:
            return []
        a, b = self.parts.sigmoid
        return (1.0 / (1.0 + np.exp(a * self.decision(documents) + b))).tolist()

    def predict(self, documents: Sequence[Document], *, explain: int = 0) -> list[Prediction]:
        """Score a batch; `explain` > 0 adds that many top terms to each prediction."""
        predictions = []
        for document, score in zip(documents, self.scores(documents), strict=True):
            terms = tuple(self.explain(document, explain)) if explain else ()
            predictions.append(Prediction(document.language, score, score >= self.threshold, terms))
        return predictions

    def decision(self, documents: Sequence[Document]) -> np.ndarray:
        """The linear model's decision function, without building the feature matrix."""
        counts = self._counter.count(documents)
        chars, words = self._weights
        return (
            normalised_dot(counts.chars, *chars) + normalised_dot(counts.words, *words)
        ) + self.parts.intercept

    def transform(self, documents: Sequence[Document]) -> sp.csr_matrix:
        """The feature matrix, as the fitted FeatureUnion's `transform(prepared)`."""
        counts = self._counter.count(documents)
        return sp.hstack(
            [tfidf(counts.chars, self.parts.char_idf), tfidf(counts.words, self.parts.word_idf)],
            format="csr",
        )

    def explain(self, document: Document, top: int = 5) -> list[Term]:
        """The terms whose features times coefficients moved the score most, either way.

        Character n-grams are credited to the words they occur in, so the answer is words and
        word pairs rather than fragments.
        """
        row = self.transform([document])
        split = len(self.parts.char_terms)
        credit: dict[str, float] = defaultdict(float)
        char_credit: dict[str, float] = {}
        for index, value in zip(row.indices, row.data, strict=True):
            contribution = float(value * self.parts.coefficients[index])
            if index < split:
                char_credit[str(self.parts.char_terms[index])] = contribution
            else:
                credit[str(self.parts.word_terms[index - split])] += contribution
        text = prepare(document, self.config)
        for word, share in self._credit_char_ngrams(text, char_credit).items():
            credit[word] += share
        ranked = sorted(credit.items(), key=lambda item: (-abs(item[1]), item[0]))
        return [Term(term, round(weight, 3)) for term, weight in ranked[:top] if weight]

    def _credit_char_ngrams(self, text: str, char_credit: dict[str, float]) -> dict[str, float]:
        """Share each n-gram's contribution among the word occurrences that contain it."""
        words = Counter(text.split())
        grams_of = {word: Counter(char_wb_ngrams(word, self.config.char_ngrams)) for word in words}
        totals: Counter[str] = Counter()
        for word, occurrences in words.items():
            for gram, count in grams_of[word].items():
                totals[gram] += count * occurrences
        shares: dict[str, float] = defaultdict(float)
        for word, occurrences in words.items():
            for gram, count in grams_of[word].items():
                if gram in char_credit:
                    shares[word] += char_credit[gram] * count * occurrences / totals[gram]
        return shares

    @cached_property
    def _counter(self) -> FeatureCounter:
        return FeatureCounter(
            _columns(self.parts.char_terms), _columns(self.parts.word_terms), self.config
        )

    @cached_property
    def _weights(self) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """(idf², idf × coefficients) of the char columns, then of the word columns."""
        parts, split = self.parts, len(self.parts.char_terms)
        return (
            (parts.char_idf**2, parts.char_idf * parts.coefficients[:split]),
            (parts.word_idf**2, parts.word_idf * parts.coefficients[split:]),
        )


def _columns(terms: np.ndarray) -> dict[str, int]:
    return {term: column for column, term in enumerate(terms.tolist())}
