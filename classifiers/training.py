"""Training: cross-validated figures, the alert threshold, and the final fit."""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.metrics import average_precision_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline

from classifiers.corpus import TrainingError, TrainingSet
from classifiers.metrics import Scores, by_language, errors_by_kind
from classifiers.model import RelevanceModel
from classifiers.pipeline import PipelineConfig, build_pipeline, prepare

TARGET_PRECISION = 0.90
CV_FOLDS = 5
# Folds depend on the data only, never on a model's configuration, so two pipelines compared
# on the same data see identical folds.
FOLD_SEED = 20181008


@dataclass(frozen=True)
class CrossValidation:
    """Out-of-fold figures at the threshold chosen from the same out-of-fold scores."""

    folds: int
    threshold: float
    threshold_rule: str
    languages: dict[str, Scores]  # per language, plus "all"
    kinds: dict[str, tuple[int, int]]  # kind -> (wrong, total)
    average_precision: float

    @property
    def quality(self) -> float:
        """The figure two pipelines are compared on: mean F1 over the languages.

        A language with no relevant examples has no F1 to speak of and is left out.
        """
        f1s = [
            scores.f1
            for lang, scores in self.languages.items()
            if lang != "all" and scores.tp + scores.fn > 0
        ]
        return sum(f1s) / len(f1s) if f1s else 0.0

    @classmethod
    def from_dict(cls, values: dict) -> CrossValidation:
        return cls(
            folds=values["folds"],
            threshold=values["threshold"],
            threshold_rule=values["threshold_rule"],
            languages={
                lang: Scores.from_dict(scores) for lang, scores in values["languages"].items()
            },
            kinds={kind: (wrong, total) for kind, (wrong, total) in values["kinds"].items()},
            average_precision=values["average_precision"],
        )

    def to_dict(self) -> dict:
        return {
            "folds": self.folds,
            "threshold": round(self.threshold, 4),
            "threshold_rule": self.threshold_rule,
            "quality": round(self.quality, 4),
            "average_precision": round(self.average_precision, 4),
            "languages": {lang: scores.to_dict() for lang, scores in self.languages.items()},
            "kinds": {kind: list(counts) for kind, counts in self.kinds.items()},
        }


@dataclass(frozen=True)
class TrainedModel:
    model: RelevanceModel
    cv: CrossValidation
    data_hash: str
    counts: dict[str, dict[str, int]]
    overridden: int


def train(training: TrainingSet, config: PipelineConfig | None = None) -> TrainedModel:
    """Cross-validate, choose the threshold, then fit on everything. Deterministic."""
    config = config or PipelineConfig()
    template = build_pipeline(config)
    cv = cross_validate(training, config, template)
    pipeline = fit(training, config, template)
    return TrainedModel(
        model=RelevanceModel(pipeline=pipeline, config=config, threshold=cv.threshold),
        cv=cv,
        data_hash=training.data_hash,
        counts=training.counts(),
        overridden=training.overridden,
    )


def fit(training: TrainingSet, config: PipelineConfig, template: Pipeline) -> Pipeline:
    check_trainable(training.labels)
    inputs = [prepare(example.document, config) for example in training.examples]
    return _fit(template, inputs, training.labels)


def cross_validate(
    training: TrainingSet, config: PipelineConfig, template: Pipeline | None = None
) -> CrossValidation:
    """Out-of-fold probabilities on folds fixed by the data, scored at a chosen threshold."""
    template = template if template is not None else build_pipeline(config)
    labels = training.labels
    check_trainable(labels)
    inputs = [prepare(example.document, config) for example in training.examples]
    label_array = np.asarray(labels)
    probabilities = np.zeros(len(labels))
    splits = folds_for(training)
    matrices = fold_matrices(template.named_steps["features"], inputs, splits)
    for (train_index, test_index), (train_matrix, test_matrix) in zip(
        splits, matrices, strict=True
    ):
        model = _calibrated(template.named_steps["model"], label_array[train_index])
        model.fit(train_matrix, label_array[train_index])
        probabilities[test_index] = model.predict_proba(test_matrix)[:, 1]
    langs = [example.lang for example in training.examples]
    threshold, rule = choose_threshold(labels, probabilities, langs)
    predicted = (probabilities >= threshold).tolist()
    examples = training.examples
    return CrossValidation(
        folds=len(splits),
        threshold=threshold,
        threshold_rule=rule,
        languages=by_language(langs, labels, predicted),
        kinds=errors_by_kind([e.kind for e in examples], labels, predicted),
        average_precision=float(average_precision_score(labels, probabilities)),
    )


def folds_for(training: TrainingSet) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified by language and label; fewer folds when a stratum is small."""
    strata = [f"{example.lang}:{example.label}" for example in training.examples]
    smallest_class = min(Counter(training.labels).values())
    folds = max(2, min(CV_FOLDS, smallest_class))
    splitter = StratifiedKFold(folds, shuffle=True, random_state=FOLD_SEED)
    with warnings.catch_warnings():
        # A language with fewer positives than folds is fine: its items spread as they can.
        warnings.simplefilter("ignore", UserWarning)
        return list(splitter.split(np.zeros(len(strata)), strata))


def choose_threshold(
    labels: Sequence[int],
    probabilities: np.ndarray,
    langs: Sequence[str] | None = None,
    target: float = TARGET_PRECISION,
) -> tuple[float, str]:
    """The lowest threshold at which precision reaches the target in every language.

    "Reaches" means the 95% lower confidence bound (Wilson) of precision, not the point
    estimate: out-of-fold scores of a few hundred examples are noisy, and the lowest threshold
    whose point estimate touches 0.90 sits exactly where precision starts to fall. When no
    threshold qualifies, fall back to the threshold with the best mean F1 over languages.
    """
    labels_array = np.asarray(labels)
    langs_array = np.asarray(langs if langs is not None else ["all"] * len(labels_array))
    thresholds = np.unique(probabilities)
    groups = [
        _ThresholdCounts.of(probabilities[langs_array == lang], labels_array[langs_array == lang])
        for lang in np.unique(langs_array)
    ]
    groups = [group for group in groups if group.positives > 0]
    qualifies = np.ones(len(thresholds), dtype=bool)
    f1 = np.zeros(len(thresholds))
    for group in groups:
        predicted, true_positives = group.at(thresholds)
        qualifies &= wilson_lower_bound(true_positives, predicted) >= target
        qualifies &= true_positives > 0
        f1 += 2 * true_positives / (predicted + group.positives) / len(groups)
    if qualifies.any():
        return float(thresholds[np.argmax(qualifies)]), (
            f"lowest with precision >= {target:.2f} in every language (95% lower bound)"
        )
    return float(thresholds[int(np.argmax(f1))]), (
        f"best mean F1: no threshold reached precision {target:.2f} in every language"
    )


@dataclass(frozen=True)
class _ThresholdCounts:
    """One language's scores, sorted, to count predictions at many thresholds at once."""

    scores: np.ndarray
    positive_scores: np.ndarray

    @property
    def positives(self) -> int:
        return len(self.positive_scores)

    @classmethod
    def of(cls, scores: np.ndarray, labels: np.ndarray) -> _ThresholdCounts:
        return cls(np.sort(scores), np.sort(scores[labels == 1]))

    def at(self, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(predicted relevant, true positives) for score >= each threshold."""
        predicted = len(self.scores) - np.searchsorted(self.scores, thresholds, side="left")
        true = self.positives - np.searchsorted(self.positive_scores, thresholds, side="left")
        return predicted, true


def wilson_lower_bound(successes: np.ndarray, trials: np.ndarray, z: float = 1.645) -> np.ndarray:
    """One-sided 95% lower bound of a proportion; 0 where there are no trials."""
    trials = np.asarray(trials, dtype=float)
    safe = np.maximum(trials, 1)
    share = np.asarray(successes, dtype=float) / safe
    centre = share + z * z / (2 * safe)
    spread = z * np.sqrt(share * (1 - share) / safe + z * z / (4 * safe * safe))
    return np.where(trials > 0, (centre - spread) / (1 + z * z / safe), 0.0)


def check_trainable(labels: list[int]) -> None:
    counts = Counter(labels)
    if min(counts.get(0, 0), counts.get(1, 0)) < 2:
        raise TrainingError(
            f"training needs at least 2 relevant and 2 not relevant examples, "
            f"got {counts.get(1, 0)} and {counts.get(0, 0)}"
        )


def fold_matrices(
    features: FeatureUnion, inputs: list[str], splits: list[tuple[np.ndarray, np.ndarray]]
) -> Iterator[tuple[sp.csr_matrix, sp.csr_matrix]]:
    """Per fold, (train, test) matrices equal to fitting `features` on the fold's train part.

    Counting n-grams is most of the cost of training, so the documents are counted once, and
    each fold keeps the columns its training part would have kept (min_df) and learns its own
    idf: the same vocabulary, in the same (sorted) order, with the same weights.
    """
    parts = _countable(features)
    if parts is None:
        for train, test in splits:
            fitted = clone(features).fit([inputs[i] for i in train])
            yield (
                fitted.transform([inputs[i] for i in train]),
                fitted.transform([inputs[i] for i in test]),
            )
        return
    counted = [
        (counter.fit_transform(inputs).tocsr(), weighting, min_df)
        for counter, weighting, min_df in parts
    ]
    for train, test in splits:
        train_parts, test_parts = [], []
        for counts, weighting, min_df in counted:
            train_counts = counts[train]
            frequency = np.bincount(train_counts.indices, minlength=counts.shape[1])
            kept = np.flatnonzero(frequency >= min_df)
            fitted = clone(weighting).fit(train_counts[:, kept])
            train_parts.append(fitted.transform(train_counts[:, kept]))
            test_parts.append(fitted.transform(counts[test][:, kept]))
        yield sp.hstack(train_parts, format="csr"), sp.hstack(test_parts, format="csr")


def _countable(
    features: FeatureUnion,
) -> list[tuple[CountVectorizer, TfidfTransformer, int]] | None:
    """Each TF-IDF part as (counter, weighting, min_df), when counting once is exact."""
    if features.transformer_weights is not None:
        return None
    parts = []
    for _, vectorizer in features.transformer_list:
        if not isinstance(vectorizer, TfidfVectorizer):
            return None
        params = vectorizer.get_params()
        exact = (
            isinstance(params["min_df"], int)
            and params["max_df"] == 1.0
            and params["max_features"] is None
            and params["vocabulary"] is None
        )
        if not exact:
            return None
        weighting_keys = ("norm", "use_idf", "smooth_idf", "sublinear_tf")
        counter = CountVectorizer(
            **{k: v for k, v in params.items() if k not in weighting_keys and k != "min_df"}
        )
        weighting = TfidfTransformer(**{k: params[k] for k in weighting_keys})
        parts.append((counter, weighting, params["min_df"]))
    return parts


def _calibrated(template: CalibratedClassifierCV, labels: np.ndarray) -> CalibratedClassifierCV:
    """An unfitted copy, with fewer calibration folds when a class is too small for them."""
    model = clone(template)
    smallest_class = int(min(np.bincount(labels, minlength=2)))
    if smallest_class < model.cv.n_splits:
        folds = max(2, smallest_class)
        model.set_params(
            cv=StratifiedKFold(folds, shuffle=True, random_state=model.cv.random_state)
        )
    return model


def _fit(template: Pipeline, inputs: list[str], labels: list[int]) -> Pipeline:
    pipeline = clone(template)
    model = _calibrated(template.named_steps["model"], np.asarray(labels))
    pipeline.set_params(model=model)
    pipeline.fit(inputs, labels)
    for _, vectorizer in pipeline.named_steps["features"].transformer_list:
        # Every n-gram cut by min_df, kept for introspection only: most of the model's size.
        if hasattr(vectorizer, "stop_words_"):
            del vectorizer.stop_words_
    return pipeline
