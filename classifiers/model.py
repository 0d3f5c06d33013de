"""A trained relevance model: calibrated scores, the alert threshold, and explanations."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from sklearn.base import clone
from sklearn.pipeline import Pipeline

from classifiers.corpus import Document
from classifiers.features import FastScorer
from classifiers.pipeline import PipelineConfig, prepare


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
class RelevanceModel:
    """A fitted pipeline with the threshold chosen for it by cross-validation."""

    pipeline: Pipeline = field(repr=False)
    config: PipelineConfig
    threshold: float
    version: str = "unsaved"

    def scores(self, documents: Sequence[Document]) -> list[float]:
        if not documents:
            return []
        return self._fast.probabilities(documents).tolist()

    def predict(self, documents: Sequence[Document], *, explain: int = 0) -> list[Prediction]:
        """Score a batch; `explain` > 0 adds that many top terms to each prediction."""
        predictions = []
        for document, score in zip(documents, self.scores(documents), strict=True):
            terms = tuple(self.explain(document, explain)) if explain else ()
            predictions.append(Prediction(document.language, score, score >= self.threshold, terms))
        return predictions

    def blueprint(self) -> tuple[PipelineConfig, Pipeline]:
        """The configuration and an unfitted copy of the pipeline, to retrain it on other data."""
        return self.config, clone(self.pipeline)

    def explain(self, document: Document, top: int = 5) -> list[Term]:
        """The terms whose features times coefficients moved the score most, either way.

        Character n-grams are credited to the words they occur in, so the answer is words and
        word pairs rather than fragments.
        """
        text = prepare(document, self.config)
        row = self._fast.transform([document])
        coefficients = self._fast.coefficients
        names = self._feature_names
        credit: dict[str, float] = defaultdict(float)
        char_credit: dict[str, float] = {}
        for index, value in zip(row.indices, row.data, strict=True):
            group, _, name = names[index].partition("__")
            contribution = float(value * coefficients[index])
            if group == "chars":
                char_credit[name] = contribution
            else:
                credit[name] += contribution
        for word, share in self._credit_char_ngrams(text, char_credit).items():
            credit[word] += share
        ranked = sorted(credit.items(), key=lambda item: (-abs(item[1]), item[0]))
        return [Term(term, round(weight, 3)) for term, weight in ranked[:top] if weight]

    def _credit_char_ngrams(self, text: str, char_credit: dict[str, float]) -> dict[str, float]:
        """Share each n-gram's contribution among the word occurrences that contain it."""
        analyse = self.pipeline.named_steps["features"].transformer_list[0][1].build_analyzer()
        words = Counter(text.split())
        grams_of = {word: Counter(analyse(word)) for word in words}
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
    def _fast(self) -> FastScorer:
        return FastScorer(self.pipeline, self.config)

    @cached_property
    def _feature_names(self) -> list[str]:
        return self.pipeline.named_steps["features"].get_feature_names_out().tolist()
