"""Evaluating a model on labelled data, beside the keyword baseline on the same items."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from classifiers.baseline import keyword_relevant
from classifiers.corpus import Example
from classifiers.metrics import Scores, by_language, errors_by_kind
from classifiers.scorer import Scorer


@dataclass(frozen=True)
class Evaluation:
    version: str
    threshold: float
    model: dict[str, Scores]  # per language, plus "all"
    baseline: dict[str, Scores]
    kinds: dict[str, tuple[int, int]]  # the model's (wrong, total) per kind
    scored: int
    skipped: int  # items with label null: ambiguous, left out


def evaluate(model: Scorer, examples: Sequence[Example]) -> Evaluation:
    labelled = [example for example in examples if example.label is not None]
    documents = [example.document for example in labelled]
    labels = [example.label for example in labelled]
    langs = [example.lang for example in labelled]
    predicted = [score >= model.threshold for score in model.scores(documents)]
    keywords = [keyword_relevant(document) for document in documents]
    return Evaluation(
        version=model.version,
        threshold=model.threshold,
        model=by_language(langs, labels, predicted),
        baseline=by_language(langs, labels, keywords),
        kinds=errors_by_kind([example.kind for example in labelled], labels, predicted),
        scored=len(labelled),
        skipped=len(examples) - len(labelled),
    )
