"""The benchmark runner works end to end at tiny sizes. It asserts nothing about speed:
benchmarks are commands, their figures are read by people (BENCHMARKS.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_runner_writes_its_figures_the_machine_and_the_date(tmp_path: Path) -> None:
    output = tmp_path / "BENCHMARKS.md"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "poll,extract", "--output", output],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    text = output.read_text(encoding="utf-8")
    assert "## Machine" in text and "cores" in text and "Python" in text and "date" in text
    assert "## poll" in text and "## extract" in text and "## ingest" not in text
    assert "304 cycle CPU per feed" in text
    assert "boilerplate left (ours)" in text
    assert "failed" not in text
    assert "Quick run" in text


def test_an_unknown_benchmark_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--only", "nope", "--output", tmp_path / "B.md"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "unknown benchmark nope" in done.stderr
    assert not (tmp_path / "B.md").exists()
