"""Glue between the classifier's training and the database: retraining on moderators' labels.

`classifiers` knows nothing of SQL and `storage` nothing of models; this module reads the
moderators' labels and the active version from the store, and hands plain records across.
Training needs scikit-learn; `poller.scoring.retrain_apart` runs it in a child process, so a
long-running service that only scores never loads it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from classifiers import registry
from classifiers.corpus import (
    SEED_DIR,
    Example,
    TrainingSet,
    merge,
    read_corpus,
    read_examples,
)
from classifiers.model import RelevanceModel
from classifiers.pipeline import PipelineConfig, build_pipeline
from classifiers.report import render_cv
from classifiers.training import CrossValidation, TrainedModel, cross_validate, fit
from storage import ModelRecord, Store

# A candidate whose mean F1 over languages is lower than the active pipeline's by more than
# this, on identical folds of the same data, is not activated without --force.
TOLERANCE = 0.005


@dataclass(frozen=True)
class _Verdict:
    activate: bool
    refused: bool  # not activated because worse than, or not comparable with, the active model
    reason: str


@dataclass(frozen=True)
class _TrainingData:
    """Seed corpus, the given files and the moderators' labels, merged."""

    training: TrainingSet
    sources: dict[str, int]
    skipped_unlabelled: int

    @classmethod
    def gather(cls, store: Store, extra_files: Sequence[Path], seed_dir: Path) -> _TrainingData:
        seed = read_corpus(seed_dir)
        files = [read_examples(path, allow_unlabelled=True) for path in extra_files]
        moderated = moderator_examples(store)
        from_files = [example for examples in files for example in examples]
        labelled_from_files = sum(1 for example in from_files if example.label is not None)
        return cls(
            training=merge(seed, from_files, moderated),
            sources={"seed": len(seed), "files": labelled_from_files, "moderators": len(moderated)},
            skipped_unlabelled=len(from_files) - labelled_from_files,
        )

    def report(
        self,
        verdict: _Verdict,
        cv: CrossValidation,
        previous_cv: CrossValidation | None,
        version: str | None,
        previous: str | None,
        started: float,
    ) -> TrainReport:
        return TrainReport(
            activated=verdict.activate,
            refused=verdict.refused,
            reason=verdict.reason,
            version=version,
            previous=previous,
            cv=cv,
            previous_cv=previous_cv,
            examples=len(self.training.examples),
            counts=self.training.counts(),
            sources=self.sources,
            skipped_unlabelled=self.skipped_unlabelled,
            overridden=self.training.overridden,
            data_hash=self.training.data_hash,
            seconds=time.perf_counter() - started,
        )


@dataclass(frozen=True)
class TrainReport:
    activated: bool
    refused: bool  # worse than (or not comparable with) the active model, and not forced
    reason: str
    version: str | None  # of the new model; None when nothing was saved
    previous: str | None  # the model active before
    cv: CrossValidation  # the candidate's cross-validated figures
    previous_cv: CrossValidation | None  # the active pipeline on the same folds
    examples: int
    counts: dict[str, dict[str, int]]
    sources: dict[str, int]  # "seed", "files", "moderators" -> labelled examples read
    skipped_unlabelled: int  # label null in the given files
    overridden: int
    data_hash: str
    seconds: float

    def render(self) -> str:
        sources = ", ".join(f"{name} {count}" for name, count in self.sources.items())
        lines = [
            f"training data: {self.examples} examples ({sources}; {self.overridden} labels "
            f"overridden, {self.skipped_unlabelled} unlabelled skipped), hash {self.data_hash[:12]}",
            render_cv(self.cv, "cross-validated" if self.previous_cv is None else "new model"),
        ]
        if self.previous_cv is not None:
            lines.append(render_cv(self.previous_cv, f"active {self.previous}, same folds"))
        verdict = f"activated {self.version}" if self.activated else "not activated"
        lines.append(f"{verdict}: {self.reason} ({self.seconds:.1f} s)")
        return "\n".join(lines)


def retrain(
    store: Store,
    models_dir: Path,
    extra_files: Sequence[Path] = (),
    force: bool = False,
    *,
    config: PipelineConfig | None = None,
    seed_dir: Path = SEED_DIR,
) -> TrainReport:
    """Train on seed corpus + files + moderator labels; activate unless worse than the active.

    Both pipelines are cross-validated on identical folds of this same data; the candidate is
    refused when its mean F1 over languages is lower by more than TOLERANCE, unless `force`.
    """
    started = time.perf_counter()
    config = config or PipelineConfig()
    data = _TrainingData.gather(store, extra_files, seed_dir)
    active = store.active_model()
    if active and not force and _unchanged(models_dir, active, data.training, config):
        reason = "unchanged: the active model was trained on this data with this configuration"
        cv = CrossValidation.from_dict(active.metrics)
        return data.report(_Verdict(False, False, reason), cv, None, None, active.version, started)

    active_model, load_error = _load_active(models_dir, active)
    template = build_pipeline(config)
    cv = cross_validate(data.training, config, template)
    previous_cv = cross_validate(data.training, *active_model.blueprint()) if active_model else None
    verdict = _verdict(cv, previous_cv, load_error, force)
    version = None
    if verdict.activate:
        pipeline = fit(data.training, config, template)
        trained = TrainedModel(
            model=RelevanceModel(pipeline=pipeline, config=config, threshold=cv.threshold),
            cv=cv,
            data_hash=data.training.data_hash,
            counts=data.training.counts(),
            overridden=data.training.overridden,
        )
        version = _record(store, models_dir, trained)
    previous = active.version if active else None
    return data.report(verdict, cv, previous_cv, version, previous, started)


def moderator_examples(store: Store) -> list[Example]:
    return [
        Example(
            id=f"article-{labelled.article_id}",
            lang=labelled.lang,
            title=labelled.title,
            text=labelled.text,
            label=labelled.label,
            kind="moderator",
        )
        for labelled in store.labelled_examples()
    ]


def _record(store: Store, models_dir: Path, trained: TrainedModel) -> str:
    now = datetime.now(UTC)
    metadata = registry.save(
        models_dir, trained, now=now, taken=lambda version: store.model_record(version) is not None
    )
    store.record_model(
        metadata.version,
        data_hash=metadata.data_hash,
        threshold=metadata.threshold,
        examples=metadata.examples,
        metrics=metadata.cv,
        created_at=now,
    )
    store.activate_model(metadata.version, at=now)
    return metadata.version


def _unchanged(
    models_dir: Path, active: ModelRecord, training: TrainingSet, config: PipelineConfig
) -> bool:
    if active.data_hash != training.data_hash:
        return False
    try:
        saved = registry.read_metadata(models_dir, active.version).config
    except registry.RegistryError:
        return False
    return PipelineConfig.from_dict(saved) == config


def _load_active(
    models_dir: Path, active: ModelRecord | None
) -> tuple[RelevanceModel | None, str | None]:
    """The active model to compare with, or why it cannot be."""
    if active is None:
        return None, None
    try:
        return registry.load(models_dir, active.version), None
    except registry.RegistryError as error:
        return None, str(error)


def _verdict(
    cv: CrossValidation, previous: CrossValidation | None, load_error: str | None, force: bool
) -> _Verdict:
    if load_error is not None:
        if force:
            return _Verdict(True, False, f"forced; the active model was not compared: {load_error}")
        reason = f"refused: the active model cannot be compared ({load_error}); use --force"
        return _Verdict(False, True, reason)
    if previous is None:
        return _Verdict(True, False, "there was no active model")
    figures = f"mean F1 {cv.quality:.3f} vs the active model's {previous.quality:.3f}, same folds"
    if cv.quality < previous.quality - TOLERANCE:
        if force:
            return _Verdict(True, False, f"forced, although worse: {figures}")
        return _Verdict(
            False, True, f"refused, worse than the active model: {figures}; use --force"
        )
    return _Verdict(True, False, figures)
