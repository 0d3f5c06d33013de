"""Model files: each trained model saved with skops, its scorer's arrays and a JSON metadata file.

`<models_dir>/<version>.skops` holds the fitted pipeline, its configuration and threshold, for
retraining; `<version>.scorer.npz` holds only what scoring needs (`LinearParts`: numpy arrays,
read with allow_pickle=False), so the running service loads a model without scikit-learn;
`<version>.json` says where it came from (data hash and counts, cross-validated figures,
library versions, time) and the SHA-256 of both files. Loading refuses any file whose bytes do
not match its metadata, and a skops file that holds a type outside TRUSTED_TYPES: a model file
is code's neighbour, and neither format runs what it names.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from classifiers.pipeline import PipelineConfig
from classifiers.scorer import LinearParts, Scorer

# skops and scikit-learn are imported where a full model is saved or loaded: a process that
# only scores (the running service) never loads them.
if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

    from classifiers.model import RelevanceModel
    from classifiers.training import TrainedModel

FORMAT = 1
# Beyond what skops trusts by default (numpy, scipy, scikit-learn estimators): the pieces of
# CalibratedClassifierCV and the splitter it was configured with. Nothing else loads.
TRUSTED_TYPES = (
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.model_selection._split.StratifiedKFold",
)
LIBRARIES = ("scikit-learn", "skops", "numpy", "scipy")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class RegistryError(Exception):
    """A model that cannot be saved or loaded; the message says which file and why."""


class ModelMissingError(RegistryError):
    """The model's files are not in the models directory."""


class UntrustedModelError(RegistryError):
    """The model file names a type we do not trust; it was not loaded."""


@dataclass(frozen=True)
class ModelMetadata:
    version: str
    created_at: datetime
    data_hash: str
    counts: dict[str, dict[str, int]]  # language -> label -> examples
    overridden: int  # seed labels replaced by later sources (files, moderators)
    threshold: float
    cv: dict  # CrossValidation.to_dict()
    config: dict  # PipelineConfig.to_dict()
    libraries: dict[str, str]
    model_sha256: str
    scorer_sha256: str | None = None  # None: saved before scorer files; written on first load

    @property
    def examples(self) -> int:
        return sum(sum(labels.values()) for labels in self.counts.values())

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "version": self.version,
            "created_at": self.created_at.isoformat(timespec="seconds"),
            "data_hash": self.data_hash,
            "counts": self.counts,
            "overridden": self.overridden,
            "threshold": self.threshold,
            "cv": self.cv,
            "config": self.config,
            "libraries": self.libraries,
            "model_sha256": self.model_sha256,
            "scorer_sha256": self.scorer_sha256,
        }

    @classmethod
    def from_dict(cls, values: dict) -> ModelMetadata:
        return cls(
            version=values["version"],
            created_at=datetime.fromisoformat(values["created_at"]),
            data_hash=values["data_hash"],
            counts=values["counts"],
            overridden=values.get("overridden", 0),
            threshold=float(values["threshold"]),
            cv=values["cv"],
            config=values["config"],
            libraries=values["libraries"],
            model_sha256=values["model_sha256"],
            scorer_sha256=values.get("scorer_sha256"),
        )


def new_version(
    models_dir: Path, data_hash: str, now: datetime, taken: Callable[[str], bool] | None = None
) -> str:
    """Sortable by time, says which data, not used yet: "20261121-054012-3fa9c2d1".

    `taken` says whether a version is used elsewhere (recorded in a database).
    """
    base = f"{now.astimezone(UTC):%Y%m%d-%H%M%S}-{data_hash[:8]}"
    version, suffix = base, 1
    while any(path.exists() for path in _paths(models_dir, version)) or (
        taken is not None and taken(version)
    ):
        suffix += 1
        version = f"{base}-{suffix}"
    return version


def save(
    models_dir: Path,
    trained: TrainedModel,
    *,
    now: datetime | None = None,
    taken: Callable[[str], bool] | None = None,
) -> ModelMetadata:
    """Write the model's three files under a new version; returns the metadata."""
    import skops.io

    now = (now or datetime.now(UTC)).astimezone(UTC)
    models_dir.mkdir(parents=True, exist_ok=True)
    version = new_version(models_dir, trained.data_hash, now, taken)
    model_path, _ = _paths(models_dir, version)
    scorer_data = _scorer_bytes(trained.model.scorer.parts)
    pipeline, vocabularies = _without_vocabularies(trained.model.pipeline)
    payload = {
        "format": FORMAT,
        "version": version,
        "pipeline": pipeline,
        "vocabularies": vocabularies,
        "config": trained.model.config.to_dict(),
        "threshold": trained.model.threshold,
    }
    data = skops.io.dumps(payload, compression=zipfile.ZIP_DEFLATED)
    metadata = ModelMetadata(
        version=version,
        created_at=now,
        data_hash=trained.data_hash,
        counts=trained.counts,
        overridden=trained.overridden,
        threshold=trained.model.threshold,
        cv=trained.cv.to_dict(),
        config=trained.model.config.to_dict(),
        libraries=library_versions(),
        model_sha256=_sha256(data),
        scorer_sha256=_sha256(scorer_data),
    )
    _write_atomically(model_path, data)
    _write_atomically(_scorer_path(models_dir, version), scorer_data)
    _write_metadata(models_dir, metadata)
    return metadata


def load(models_dir: Path, version: str) -> RelevanceModel:
    """The full model of this version (to retrain from), after checking its bytes and types."""
    model_path, _ = _paths(models_dir, version)
    metadata = read_metadata(models_dir, version)
    data = _checked_bytes(model_path, metadata.model_sha256, version)
    payload = load_trusted(data, str(model_path))
    return _model_from(payload, version, str(model_path))


def load_scorer(models_dir: Path, version: str) -> Scorer:
    """What scores with the model of this version, loaded without scikit-learn.

    A model saved before scorer files existed is loaded whole once, and its scorer file
    written and recorded in its metadata, so later loads are light too.
    """
    metadata = read_metadata(models_dir, version)
    if metadata.scorer_sha256 is None:
        return _write_scorer(models_dir, metadata)
    path = _scorer_path(models_dir, version)
    data = _checked_bytes(path, metadata.scorer_sha256, version)
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            parts = LinearParts.from_arrays({name: arrays[name] for name in arrays.files})
    except (ValueError, OSError, zipfile.BadZipFile) as error:
        raise RegistryError(f"{path}: not a readable scorer file: {error}") from None
    return Scorer(
        parts=parts,
        config=PipelineConfig.from_dict(metadata.config),
        threshold=metadata.threshold,
        version=version,
    )


def _write_scorer(models_dir: Path, metadata: ModelMetadata) -> Scorer:
    scorer = load(models_dir, metadata.version).scorer
    data = _scorer_bytes(scorer.parts)
    _write_atomically(_scorer_path(models_dir, metadata.version), data)
    _write_metadata(models_dir, replace(metadata, scorer_sha256=_sha256(data)))
    return scorer


def _scorer_bytes(parts: LinearParts) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **parts.to_arrays())
    return buffer.getvalue()


def _checked_bytes(path: Path, sha256: str, version: str) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ModelMissingError(f"{path}: model {version} is not here") from None
    except OSError as error:
        raise RegistryError(f"{path}: cannot read model file: {error}") from None
    if _sha256(data) != sha256:
        raise RegistryError(f"{path}: file does not match the SHA-256 in its metadata")
    return data


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_trusted(data: bytes, name: str) -> object:
    """skops.io.loads with our allowlist; any other type is refused, naming it."""
    import skops.io

    try:
        untrusted = skops.io.get_untrusted_types(data=data)
    except Exception as error:
        raise RegistryError(f"{name}: not a readable skops file: {error}") from None
    refused = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if refused:
        raise UntrustedModelError(
            f"{name}: refused to load: the file holds untrusted type(s) {', '.join(refused)}"
        )
    try:
        return skops.io.loads(data, trusted=list(TRUSTED_TYPES))
    except Exception as error:
        raise RegistryError(f"{name}: cannot load model: {error}") from None


def read_metadata(models_dir: Path, version: str) -> ModelMetadata:
    _, metadata_path = _paths(models_dir, version)
    try:
        return ModelMetadata.from_dict(json.loads(metadata_path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise ModelMissingError(f"{metadata_path}: model {version} is not here") from None
    except OSError as error:
        raise RegistryError(f"{metadata_path}: cannot read model metadata: {error}") from None
    except (ValueError, KeyError, TypeError) as error:
        raise RegistryError(f"{metadata_path}: bad model metadata: {error!r}") from None


def library_versions() -> dict[str, str]:
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = package_version(name)
        except PackageNotFoundError:
            versions[name] = "unknown"
    return versions


def _model_from(payload: object, version: str, name: str) -> RelevanceModel:
    from sklearn.pipeline import Pipeline

    from classifiers.model import RelevanceModel

    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise RegistryError(f"{name}: not a RepostWatch model (format {FORMAT})")
    pipeline = payload.get("pipeline")
    if not isinstance(pipeline, Pipeline) or list(pipeline.named_steps) != ["features", "model"]:
        raise RegistryError(f"{name}: the model file holds no features → model pipeline")
    if payload.get("version") != version:
        raise RegistryError(f"{name}: holds version {payload.get('version')!r}, not {version!r}")
    _restore_vocabularies(pipeline, payload.get("vocabularies"), name)
    return RelevanceModel(
        pipeline=pipeline,
        config=PipelineConfig.from_dict(payload["config"]),
        threshold=float(payload["threshold"]),
        version=version,
    )


def _without_vocabularies(pipeline: Pipeline) -> tuple[Pipeline, dict[str, np.ndarray]]:
    """A shallow copy of the pipeline whose vectorizers have no vocabulary_, and the terms.

    skops writes a dict as one JSON node per entry, which makes saving and loading a
    vocabulary of a hundred thousand n-grams take seconds; as a numpy array of terms (a
    vectorizer's columns are its terms in sorted order) it takes milliseconds.
    """
    union = pipeline.named_steps["features"]
    parts, vocabularies = [], {}
    for name, vectorizer in union.transformer_list:
        light = copy.copy(vectorizer)
        del light.vocabulary_
        terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
        vocabularies[name] = np.array(terms, dtype=str)
        parts.append((name, light))
    light_union = copy.copy(union)
    light_union.transformer_list = parts
    light_pipeline = copy.copy(pipeline)
    light_pipeline.steps = [("features", light_union), ("model", pipeline.named_steps["model"])]
    return light_pipeline, vocabularies


def _restore_vocabularies(pipeline: Pipeline, vocabularies: object, name: str) -> None:
    union = pipeline.named_steps["features"]
    names = [part for part, _ in union.transformer_list]
    if not isinstance(vocabularies, dict) or sorted(vocabularies) != sorted(names):
        raise RegistryError(f"{name}: the model file holds no vocabularies for {names}")
    for part, vectorizer in union.transformer_list:
        terms = vocabularies[part]
        if not isinstance(terms, np.ndarray) or terms.dtype.kind != "U":
            raise RegistryError(f"{name}: the {part} vocabulary is not an array of terms")
        vectorizer.vocabulary_ = {term: column for column, term in enumerate(terms.tolist())}


def _paths(models_dir: Path, version: str) -> tuple[Path, Path]:
    if not _VERSION.match(version):
        raise RegistryError(f"bad model version {version!r}: letters, digits, '.', '_', '-' only")
    return models_dir / f"{version}.skops", models_dir / f"{version}.json"


def _scorer_path(models_dir: Path, version: str) -> Path:
    return _paths(models_dir, version)[0].with_suffix(".scorer.npz")


def _write_metadata(models_dir: Path, metadata: ModelMetadata) -> None:
    _, path = _paths(models_dir, metadata.version)
    _write_atomically(path, json.dumps(metadata.to_dict(), ensure_ascii=False, indent=2).encode())


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(path)
