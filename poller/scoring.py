"""Scoring new articles with the active model, loaded without scikit-learn.

Training needs scikit-learn (`poller.training`); from here it runs in a child process, so a
long-running service that only scores never loads it (about 90 MB of resident memory).
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from classifiers import registry
from classifiers.corpus import SEED_DIR, Document
from classifiers.scorer import Scorer
from storage import NewArticle, Store


@dataclass(frozen=True)
class Retrained:
    """What a training run reports back across processes: plain values only (its full report
    would make the receiving process import scikit-learn to unpickle it)."""

    activated: bool
    refused: bool  # not activated: worse than the active model
    version: str | None  # of the new model; None when nothing was saved
    text: str  # the trainer's own figures and verdict


def ensure_model(store: Store, models_dir: Path, *, seed_dir: Path = SEED_DIR) -> Scorer:
    """The active model's scorer; on a fresh install, train one from the seed corpus first.

    Training is deterministic, so a fresh install always gets the same model; it runs in a
    child process. A model whose files are gone is trained again the same way; one that fails
    its checks is an error.
    """
    record = store.active_model()
    if record is not None:
        try:
            return registry.load_scorer(models_dir, record.version)
        except registry.ModelMissingError:
            pass
    report = retrain_apart(store, models_dir, force=True, seed_dir=seed_dir)
    return registry.load_scorer(models_dir, report.version)


def score_articles(model: Scorer, articles: list[NewArticle]) -> list[NewArticle]:
    """The same articles with `score` and `model_version` filled in; one batch, one pass."""
    documents = [Document(article.title, article.text, article.lang) for article in articles]
    return [
        replace(article, score=round(score, 4), model_version=model.version)
        for article, score in zip(articles, model.scores(documents), strict=True)
    ]


def retrain_apart(
    store: Store, models_dir: Path, force: bool = False, *, seed_dir: Path = SEED_DIR
) -> Retrained:
    """`poller.training.retrain` in a child process over the same database file, so this
    process stays free of scikit-learn and of the training's peak memory. Blocks until done."""
    if str(store.path) == ":memory:":  # nothing a child could open
        return _retrain_here(store, models_dir, force, seed_dir=seed_dir)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as child:
        return child.submit(_retrain_file, store.path, models_dir, force, seed_dir).result()


def _retrain_here(
    store: Store, models_dir: Path, force: bool = False, *, seed_dir: Path = SEED_DIR
) -> Retrained:
    """`poller.training.retrain` in this process (which then holds scikit-learn)."""
    from poller.training import retrain

    report = retrain(store, models_dir, force=force, seed_dir=seed_dir)
    return Retrained(report.activated, report.refused, report.version, report.render())


def _retrain_file(database: Path, models_dir: Path, force: bool, seed_dir: Path) -> Retrained:
    store = Store(database)
    try:
        return _retrain_here(store, models_dir, force, seed_dir=seed_dir)
    finally:
        store.close()
