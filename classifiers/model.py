"""A trained relevance model: the fitted scikit-learn pipeline, its threshold, and its scorer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline

from classifiers.corpus import Document
from classifiers.features import UnsupportedPipelineError, bigram_index
from classifiers.pipeline import WORD_TOKENS, PipelineConfig
from classifiers.scorer import LinearParts, Prediction, Scorer, Term


@dataclass(frozen=True, eq=False)
class RelevanceModel:
    """A fitted pipeline with the threshold chosen for it by cross-validation.

    Scores come from its `scorer`, which gives the pipeline's own probabilities from plain
    arrays; the pipeline itself is kept to retrain from (`blueprint`) and to save.
    """

    pipeline: Pipeline = field(repr=False)
    config: PipelineConfig
    threshold: float
    version: str = "unsaved"

    def scores(self, documents: Sequence[Document]) -> list[float]:
        return self.scorer.scores(documents)

    def predict(self, documents: Sequence[Document], *, explain: int = 0) -> list[Prediction]:
        """Score a batch; `explain` > 0 adds that many top terms to each prediction."""
        return self.scorer.predict(documents, explain=explain)

    def explain(self, document: Document, top: int = 5) -> list[Term]:
        return self.scorer.explain(document, top)

    def blueprint(self) -> tuple[PipelineConfig, Pipeline]:
        """The configuration and an unfitted copy of the pipeline, to retrain it on other data."""
        return self.config, clone(self.pipeline)

    @cached_property
    def scorer(self) -> Scorer:
        return Scorer(linear_parts(self.pipeline), self.config, self.threshold, self.version)


def linear_parts(pipeline: Pipeline) -> LinearParts:
    """The arrays scoring needs, taken from a pipeline `build_pipeline` made and fitted."""
    union = pipeline.named_steps["features"]
    calibrated = pipeline.named_steps["model"].calibrated_classifiers_
    if len(calibrated) != 1 or len(calibrated[0].calibrators) != 1 or not _supported(union):
        raise UnsupportedPipelineError("not a pipeline made by build_pipeline (one calibrator)")
    (_, chars), (_, words) = union.transformer_list
    bigram_index(words.vocabulary_)  # raises if the word vocabulary is not one we reproduce
    linear, calibrator = calibrated[0].estimator, calibrated[0].calibrators[0]
    return LinearParts(
        char_terms=_terms(chars.vocabulary_),
        word_terms=_terms(words.vocabulary_),
        char_idf=np.asarray(chars.idf_, dtype=np.float64),
        word_idf=np.asarray(words.idf_, dtype=np.float64),
        coefficients=np.asarray(linear.coef_, dtype=np.float64).ravel(),
        intercept=float(np.ravel(linear.intercept_)[0]),
        sigmoid=(float(calibrator.a_), float(calibrator.b_)),
    )


def _terms(vocabulary: dict[str, int]) -> np.ndarray:
    return np.array(sorted(vocabulary, key=vocabulary.__getitem__), dtype=str)


def _supported(union: FeatureUnion) -> bool:
    """Only the configuration `build_pipeline` makes is re-implemented by the scorer."""
    (_, chars), (_, words) = union.transformer_list
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
        max_df=1.0,
        max_features=None,
        vocabulary=None,
    )

    def matches(vectorizer: object, **wanted: object) -> bool:
        if not isinstance(vectorizer, TfidfVectorizer):
            return False
        params = vectorizer.get_params()
        return all(params.get(key) == value for key, value in {**common, **wanted}.items())

    return (
        len(union.transformer_list) == 2
        and union.transformer_weights is None
        and matches(chars, analyzer="char_wb")
        and matches(words, analyzer="word", token_pattern=WORD_TOKENS)
        and tuple(words.ngram_range) in {(1, 1), (1, 2)}
    )
