from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import skops.io

from classifiers import registry
from classifiers.corpus import Document, merge, read_corpus
from classifiers.training import train
from tests.conftest import FIXTURES

ROOT = Path(__file__).resolve().parent.parent
SEED = FIXTURES / "classifier" / "seed"
DOCUMENTS = [
    Document("Блогера оштрафовали за пост в Telegram", "Суд счел пост дискредитацией армии.", "ru"),
    Document("Rouble falls against the dollar", "The currency lost two percent.", "en"),
]


@pytest.fixture(scope="module")
def trained():
    return train(merge(read_corpus(SEED)))


def test_a_saved_model_loads_back_with_the_same_scores(tmp_path: Path, trained) -> None:
    metadata = registry.save(tmp_path, trained)
    loaded = registry.load(tmp_path, metadata.version)
    assert loaded.version == metadata.version
    assert loaded.threshold == trained.model.threshold
    assert loaded.config == trained.model.config
    assert loaded.scores(DOCUMENTS) == trained.model.scores(DOCUMENTS)


def test_metadata_says_where_the_model_came_from(tmp_path: Path, trained) -> None:
    metadata = registry.save(tmp_path, trained)
    saved = json.loads((tmp_path / f"{metadata.version}.json").read_text(encoding="utf-8"))
    assert saved["data_hash"] == trained.data_hash
    assert saved["counts"] == {"en": {"0": 24, "1": 24}, "ru": {"0": 24, "1": 24}}
    assert set(saved["cv"]["languages"]) == {"en", "ru", "all"}
    assert saved["threshold"] == trained.model.threshold
    assert set(saved["libraries"]) == {"scikit-learn", "skops", "numpy", "scipy"}
    assert saved["created_at"].endswith("+00:00")
    assert metadata.version.endswith(trained.data_hash[:8])


def test_versions_never_overwrite_each_other(tmp_path: Path, trained) -> None:
    first = registry.save(tmp_path, trained)
    second = registry.save(tmp_path, trained, now=first.created_at)
    assert second.version == f"{first.version}-2"
    assert len(list(tmp_path.glob("*.skops"))) == 2


def test_a_file_holding_an_untrusted_type_is_refused(tmp_path: Path, trained) -> None:
    metadata = registry.save(tmp_path, trained)
    model_path = tmp_path / f"{metadata.version}.skops"
    payload = skops.io.load(model_path, trusted=list(registry.TRUSTED_TYPES))
    payload["pipeline"].steps.append(("hook", os.system))  # what an attacker would slip in
    data = skops.io.dumps(payload)
    model_path.write_bytes(data)
    # Even with metadata that matches the crafted bytes, the type check refuses it.
    metadata_path = tmp_path / f"{metadata.version}.json"
    saved = json.loads(metadata_path.read_text(encoding="utf-8"))
    saved["model_sha256"] = hashlib.sha256(data).hexdigest()
    metadata_path.write_text(json.dumps(saved), encoding="utf-8")
    with pytest.raises(registry.UntrustedModelError, match=r"untrusted type.*system"):
        registry.load(tmp_path, metadata.version)


def test_a_file_changed_after_saving_is_refused(tmp_path: Path, trained) -> None:
    metadata = registry.save(tmp_path, trained)
    model_path = tmp_path / f"{metadata.version}.skops"
    model_path.write_bytes(model_path.read_bytes() + b"\0")
    with pytest.raises(registry.RegistryError, match="does not match the SHA-256"):
        registry.load(tmp_path, metadata.version)


def test_a_missing_model_says_so(tmp_path: Path) -> None:
    with pytest.raises(registry.ModelMissingError, match="is not here"):
        registry.load(tmp_path, "20260101-000000-deadbeef")


def test_a_version_cannot_reach_outside_the_models_directory(tmp_path: Path) -> None:
    with pytest.raises(registry.RegistryError, match="bad model version"):
        registry.load(tmp_path, "../../etc/passwd")


def test_a_version_recorded_elsewhere_is_not_reused(tmp_path: Path, trained) -> None:
    # Model files deleted, the database still remembers the version: a new one must differ.
    first = registry.save(tmp_path / "old", trained)
    second = registry.save(
        tmp_path / "new", trained, now=first.created_at, taken=lambda v: v == first.version
    )
    assert second.version == f"{first.version}-2"


def test_the_scorer_file_scores_as_the_full_model(tmp_path: Path, trained) -> None:
    metadata = registry.save(tmp_path, trained)
    scorer = registry.load_scorer(tmp_path, metadata.version)
    assert (scorer.version, scorer.threshold) == (metadata.version, trained.model.threshold)
    assert scorer.config == trained.model.config
    assert scorer.scores(DOCUMENTS) == trained.model.scores(DOCUMENTS)
    assert scorer.explain(DOCUMENTS[0]) == trained.model.explain(DOCUMENTS[0])


def test_a_changed_scorer_file_is_refused(tmp_path: Path, trained) -> None:
    metadata = registry.save(tmp_path, trained)
    path = tmp_path / f"{metadata.version}.scorer.npz"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(registry.RegistryError, match="does not match the SHA-256"):
        registry.load_scorer(tmp_path, metadata.version)


def test_a_model_saved_before_scorer_files_gets_one_on_first_load(tmp_path: Path, trained) -> None:
    metadata = registry.save(tmp_path, trained)
    (tmp_path / f"{metadata.version}.scorer.npz").unlink()
    metadata_path = tmp_path / f"{metadata.version}.json"
    saved = json.loads(metadata_path.read_text(encoding="utf-8"))
    del saved["scorer_sha256"]  # as the metadata of a model saved by an earlier release
    metadata_path.write_text(json.dumps(saved), encoding="utf-8")

    first = registry.load_scorer(tmp_path, metadata.version)
    recorded = registry.read_metadata(tmp_path, metadata.version).scorer_sha256
    assert recorded is not None
    assert (tmp_path / f"{metadata.version}.scorer.npz").exists()
    again = registry.load_scorer(tmp_path, metadata.version)
    assert first.scores(DOCUMENTS) == again.scores(DOCUMENTS) == trained.model.scores(DOCUMENTS)


def test_the_running_service_never_imports_scikit_learn(tmp_path: Path, trained) -> None:
    """`repostwatch run` loads every command's module and scores: none of it needs training."""
    metadata = registry.save(tmp_path, trained)
    script = f"""
import sys
from pathlib import Path
import bot.app, bot.cli, bot.relevance
from classifiers import registry
from classifiers.corpus import Document
scorer = registry.load_scorer(Path({str(tmp_path)!r}), {metadata.version!r})
print(scorer.scores([Document("Суд оштрафовал за репост", "Пост во ВКонтакте.", "ru")])[0])
print(sorted(name for name in sys.modules if name.split(".")[0] in ("sklearn", "skops")))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    score, modules = result.stdout.splitlines()
    assert 0 <= float(score) <= 1
    assert modules == "[]"
