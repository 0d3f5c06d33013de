"""Model files load only through skops with an allowlist of types, scorer files only as plain
numpy arrays: a pickle in disguise, a skops file naming a callable, an object array in a
scorer file, each is refused before anything in it runs. And nothing in the code reads models
any other way.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
import skops.io

from classifiers import registry
from classifiers.corpus import merge, read_corpus
from classifiers.training import train
from tests.conftest import FIXTURES

ROOT = Path(__file__).resolve().parent.parent
CODE = [ROOT / folder for folder in ("bot", "classifiers", "poller", "storage")]


class Payload:
    """What an attacker's pickle holds: unpickling it calls `touch` on a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    models = tmp_path_factory.mktemp("models")
    metadata = registry.save(models, train(merge(read_corpus(FIXTURES / "classifier" / "seed"))))
    return models, metadata.version


def replace_model(models: Path, version: str, data: bytes) -> None:
    replace_file(models, version, models / f"{version}.skops", "model_sha256", data)


def replace_file(models: Path, version: str, path: Path, checksum: str, data: bytes) -> None:
    """Swap a model file, and make its metadata match, as an attacker with the folder could."""
    path.write_bytes(data)
    metadata_path = models / f"{version}.json"
    metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    metadata[checksum] = hashlib.sha256(data).hexdigest()
    metadata_path.write_text(json.dumps(metadata), encoding="utf-8")


def test_a_pickle_saved_as_a_model_is_refused_without_running(tmp_path: Path, saved) -> None:
    models, version = saved
    original = (models / f"{version}.skops").read_bytes()
    marker = tmp_path / "pwned"
    try:
        replace_model(models, version, pickle.dumps(Payload(marker)))
        with pytest.raises(registry.RegistryError, match="not a readable skops file"):
            registry.load(models, version)
    finally:
        replace_model(models, version, original)
    assert not marker.exists()
    assert registry.load(models, version) is not None  # the real model still loads


@pytest.mark.parametrize(
    "smuggled",
    [eval, exec, __import__, getattr, pickle.loads, Path.touch, re.compile],
    ids=lambda function: function.__qualname__,
)
def test_a_skops_file_naming_a_callable_is_refused(tmp_path: Path, saved, smuggled) -> None:
    models, version = saved
    original = (models / f"{version}.skops").read_bytes()
    payload = skops.io.loads(original, trusted=list(registry.TRUSTED_TYPES))
    payload["pipeline"].steps.append(("hook", smuggled))
    try:
        replace_model(models, version, skops.io.dumps(payload))
        with pytest.raises(registry.UntrustedModelError, match="untrusted type"):
            registry.load(models, version)
    finally:
        replace_model(models, version, original)


def test_the_allowlist_names_no_callable_that_runs_code() -> None:
    for name in registry.TRUSTED_TYPES:
        assert name.startswith("sklearn."), name
        assert not re.search(r"builtins|eval|exec|system|subprocess|pickle|import", name)


def test_nothing_in_the_code_reads_a_model_any_other_way() -> None:
    forbidden = re.compile(
        r"^\s*(import|from)\s+(pickle|cPickle|dill|joblib|cloudpickle)\b"
        r"|\bpickle\.loads?\(|\bjoblib\.load\(|trusted\s*=\s*True|allow_pickle\s*=\s*True"
        r"|skops\.io\.loads?\((?![^)]*trusted=list\(TRUSTED_TYPES\))",
        re.MULTILINE,
    )
    offenders = [
        f"{path.relative_to(ROOT)}: {match.group(0).strip()}"
        for folder in CODE
        for path in folder.rglob("*.py")
        for match in forbidden.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_a_scorer_file_holding_objects_is_refused_without_running(tmp_path: Path, saved) -> None:
    models, version = saved
    marker = tmp_path / "pwned"
    path = models / f"{version}.scorer.npz"
    original = path.read_bytes()
    buffer = io.BytesIO()
    np.savez(buffer, char_terms=np.array([Payload(marker)], dtype=object))
    try:
        replace_file(models, version, path, "scorer_sha256", buffer.getvalue())
        with pytest.raises(registry.RegistryError, match="not a readable scorer file"):
            registry.load_scorer(models, version)
    finally:
        replace_file(models, version, path, "scorer_sha256", original)
    assert not marker.exists()
    assert registry.load_scorer(models, version) is not None  # the real scorer still loads
