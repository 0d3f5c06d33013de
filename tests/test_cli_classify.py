from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import cli
from storage import Store
from tests.conftest import FIXTURES

DATA = FIXTURES / "classifier"
SEED = DATA / "seed"


def run(data_dir: Path, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(
        cli,
        list(args),
        input=stdin,
        env={"REPOSTWATCH_DATA": str(data_dir)},
        catch_exceptions=False,
    )


@pytest.fixture(scope="module")
def trained_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("trained")
    result = run(data_dir, "train", "--seed", str(SEED))
    assert result.exit_code == 0, result.output
    return data_dir


@pytest.fixture
def data_dir(trained_dir: Path, tmp_path: Path) -> Path:
    """A data directory with a model trained on the fixture seed, this test's own copy."""
    return Path(shutil.copytree(trained_dir, tmp_path / "data"))


def active_version(data_dir: Path) -> str:
    store = Store(data_dir / "repostwatch.db")
    try:
        return store.active_model().version
    finally:
        store.close()


def test_train_prints_cross_validated_figures_per_language(tmp_path: Path) -> None:
    result = run(tmp_path, "train", "--seed", str(SEED))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("training data: 96 examples (seed 96, files 0, moderators 0")
    assert any(line.startswith("cross-validated (5 folds), threshold") for line in lines)
    assert any(line.split()[:1] == ["ru"] for line in lines)
    assert any(line.split()[:1] == ["en"] for line in lines)
    assert "activated" in lines[-1] and "there was no active model" in lines[-1]
    assert (tmp_path / "models").is_dir() and active_version(tmp_path)


def test_train_on_unchanged_data_keeps_the_active_model(data_dir: Path) -> None:
    before = active_version(data_dir)
    result = run(data_dir, "train", "--seed", str(SEED))
    assert result.exit_code == 0
    assert "not activated: unchanged" in result.output
    assert active_version(data_dir) == before


def test_train_with_extra_data_compares_on_the_same_folds(data_dir: Path) -> None:
    before = active_version(data_dir)
    result = run(data_dir, "train", "--seed", str(SEED), "--data", str(DATA / "extra.jsonl"))
    assert result.exit_code == 0, result.output
    assert (
        "(seed 96, files 2, moderators 0; 0 labels overridden, 1 unlabelled skipped)"
        in result.output
    )
    assert f"active {before}, same folds" in result.output
    assert active_version(data_dir) != before


def test_train_refuses_without_a_comparison_and_force_overrides(data_dir: Path) -> None:
    version = active_version(data_dir)
    model_file = data_dir / "models" / f"{version}.skops"
    model_file.write_bytes(b"PK not a model")
    extra = ["--seed", str(SEED), "--data", str(DATA / "extra.jsonl")]
    refused = run(data_dir, "train", *extra)
    assert refused.exit_code == 1
    assert "not activated: refused: the active model cannot be compared" in refused.output
    assert active_version(data_dir) == version
    forced = run(data_dir, "train", *extra, "--force")
    assert forced.exit_code == 0
    assert active_version(data_dir) != version


def test_train_names_the_bad_line_of_a_data_file(data_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        (DATA / "extra.jsonl").read_text(encoding="utf-8") + '{"id": "x-9", "lang": "en"}\n',
        encoding="utf-8",
    )
    result = run(data_dir, "train", "--seed", str(SEED), "--data", str(bad))
    assert result.exit_code == 1
    assert f"Error: {bad}:4: missing key(s) title, text, label" in result.output


def test_classify_scores_good_lines_and_names_bad_ones(data_dir: Path) -> None:
    result = run(data_dir, "classify", str(DATA / "articles.jsonl"))
    assert result.exit_code == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in records] == ["a1", "a2", 3, "a6"]
    assert [r["lang"] for r in records] == ["ru", "en", "en", "ru"]
    assert all(set(r) == {"id", "lang", "score", "relevant"} for r in records)
    assert all(0 <= r["score"] <= 1 and r["score"] == round(r["score"], 4) for r in records)
    assert records[0]["relevant"] is True and records[1]["relevant"] is False
    errors = result.stderr.splitlines()
    path = DATA / "articles.jsonl"
    assert errors[0].startswith(f"{path}:4: not valid JSON")
    assert errors[1] == f"{path}:5: missing key(s) text"


def test_classify_reads_standard_input_and_explains(data_dir: Path) -> None:
    lines = (DATA / "articles.jsonl").read_text(encoding="utf-8").splitlines()
    result = run(data_dir, "classify", "--explain", stdin="\n".join(lines[:3]) + "\n")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 3
    for record in records:
        assert len(record["terms"]) == 5
        assert all(isinstance(t, str) and isinstance(w, float) for t, w in record["terms"])
    relevant_terms = [term for term, weight in records[0]["terms"] if weight > 0]
    assert relevant_terms, records[0]


def test_evaluate_prints_model_and_keyword_figures_per_language(data_dir: Path) -> None:
    result = run(data_dir, "evaluate", "--data", str(DATA / "labelled.jsonl"))
    assert result.exit_code == 0, result.output
    output = result.output
    assert "7 labelled items scored, 1 with label null skipped" in output
    header = output.splitlines()[1]
    assert "model P" in header and "keywords P" in header
    rows = {line.split()[0]: line.split() for line in output.splitlines()[2:5]}
    assert set(rows) == {"en", "ru", "all"}
    assert rows["ru"][1:3] == ["4", "2"] and rows["en"][1:3] == ["3", "1"]
    assert "ru model   : true 1 -> predicted 1:" in output
    assert "en keywords: true 1 -> predicted 1:" in output


def test_evaluate_names_a_bad_label(data_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "1", "lang": "ru", "title": "t", "text": "x", "label": "yes"}\n')
    result = run(data_dir, "evaluate", "--data", str(bad))
    assert result.exit_code == 1
    assert f"{bad}:1: label must be 0, 1 or null" in result.output


@pytest.mark.parametrize("command", ["train", "evaluate", "classify"])
def test_every_command_has_help_with_an_example(tmp_path: Path, command: str) -> None:
    result = run(tmp_path, command, "--help")
    assert result.exit_code == 0
    assert f"repostwatch {command}" in result.output and "Example:" in result.output
