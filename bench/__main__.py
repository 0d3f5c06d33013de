"""Run the benchmarks and write BENCHMARKS.md: every figure with its target and verdict,
the machine and the date.

    python -m bench                      # all of them, full sizes (many minutes)
    python -m bench --quick              # tiny sizes: a smoke run, figures not meaningful
    python -m bench --only poll,ingest   # some of them
    python -m bench --list               # what there is

Each benchmark is also a command of its own (python -m bench.poll --help, ...) with more
options. Figures are ratios or rates measured within one run, so a busy machine moves them
less than it moves absolute times; the load average is recorded with them all the same.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil

from bench.report import Figure, unavailable

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Benchmark:
    name: str
    module: str
    what: str
    pending: str = "not merged yet"  # said while its module does not exist


BENCHMARKS = [
    Benchmark(
        "poll",
        "bench.poll",
        "Poll cycle: 300 feeds (30 entries each, all stored already) answering after 300 ms "
        "from a separate asyncio server process; wall time of a cycle in which every feed "
        "changed (200 with a new body) and of one in which every feed answers 304, and the "
        "RepostWatch process's CPU per 304 (the server's not counted), over HTTP and HTTPS.",
    ),
    Benchmark(
        "ingest",
        "bench.ingest",
        "Ingest: 2,000 distinct generated pages behind 50 feeds on loopback through the whole "
        "pipeline (fetch, parse, decode, extract, language, score, story matching, store), "
        "against bare trafilatura.extract on the same pages in one process.",
    ),
    Benchmark(
        "extract",
        "bench.extract",
        "Extraction quality on the page fixtures (body kept, boilerplate left) and speed, "
        "against bare trafilatura.",
    ),
    Benchmark(
        "classify",
        "bench.classify",
        "Classifier: scoring throughput on extracted text, retraining on 10,000 items.",
    ),
    Benchmark(
        "stories",
        "bench.stories",
        "Story matching: quality on the labelled pairs, and the cost per new article at 1k, "
        "10k and 100k stored articles.",
    ),
    Benchmark(
        "delivery",
        "bench.delivery",
        "Delivery: 10,000 subscribers against a fake Bot API enforcing 30 msg/s with "
        "injected 429s: rate, duplicates, lost.",
    ),
    Benchmark(
        "memory",
        "bench.memory",
        "Memory: resident size of `repostwatch run` (against the fake Bot API) after its "
        "first poll, over a database of 100k articles with the model loaded and the story "
        "index built; the extraction workers apart; a poller-only process for the breakdown.",
    ),
]


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[2:9]),
    )
    names = [benchmark.name for benchmark in BENCHMARKS]
    parser.add_argument("--only", help=f"comma-separated, of: {', '.join(names)}")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke run")
    parser.add_argument(
        "--output", type=Path, default=ROOT / "BENCHMARKS.md", help="default: BENCHMARKS.md"
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--one", nargs=2, metavar=("NAME", "JSON"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_here(args.one[0], Path(args.one[1]), args.quick)
        return
    if args.list:
        for benchmark in BENCHMARKS:
            print(f"{benchmark.name:10} {benchmark.what}")
        return
    chosen = _choose(args.only, parser)
    machine = describe_machine()
    started = time.perf_counter()
    figures: list[Figure] = []
    for benchmark in chosen:
        print(f"== {benchmark.name}", flush=True)
        found = run_benchmark(benchmark, args.quick)
        for figure in found:
            print(f"   {figure.line()}", flush=True)
        figures += found
    machine["load average at the end"] = _load()
    text = render(chosen, figures, machine, args.quick, time.perf_counter() - started)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")


def _choose(only: str | None, parser: argparse.ArgumentParser) -> list[Benchmark]:
    if not only:
        return BENCHMARKS
    wanted = [name.strip() for name in only.split(",") if name.strip()]
    known = {benchmark.name: benchmark for benchmark in BENCHMARKS}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(known)}")
    return [benchmark for benchmark in BENCHMARKS if benchmark.name in wanted]


def run_benchmark(benchmark: Benchmark, quick: bool) -> list[Figure]:
    """Its figures, measured in a process of its own (so that no benchmark's imports, caches
    or memory weigh on another's figures); a missing or failing one is a figure saying so."""
    if importlib.util.find_spec(benchmark.module) is None:
        return [
            unavailable(benchmark.name, benchmark.name, f"not available yet ({benchmark.pending})")
        ]
    with tempfile.TemporaryDirectory(prefix="rw-bench-") as folder:
        output = Path(folder) / "figures.json"
        command = [sys.executable, "-m", "bench", "--one", benchmark.name, str(output)]
        done = subprocess.run([*command, *(["--quick"] if quick else [])], cwd=ROOT)
        if done.returncode != 0 or not output.exists():
            why = f"failed: exit status {done.returncode} (see the output above)"
            return [unavailable(benchmark.name, benchmark.name, why)]
        return [Figure(**fields) for fields in json.loads(output.read_text(encoding="utf-8"))]


def run_here(name: str, output: Path, quick: bool) -> None:
    """Run one benchmark in this process and write its figures to `output` as JSON."""
    benchmark = next(benchmark for benchmark in BENCHMARKS if benchmark.name == name)
    figures = measure(benchmark, quick)
    output.write_text(json.dumps([asdict(figure) for figure in figures]), encoding="utf-8")


def measure(benchmark: Benchmark, quick: bool) -> list[Figure]:
    if importlib.util.find_spec(benchmark.module) is None:
        return [
            unavailable(benchmark.name, benchmark.name, f"not available yet ({benchmark.pending})")
        ]
    try:
        module = importlib.import_module(benchmark.module)
        figures: Callable[..., list[Figure]] | None = getattr(module, "figures", None)
        if figures is None:
            return [
                unavailable(
                    benchmark.name,
                    benchmark.name,
                    f"not available yet: {benchmark.module} has no figures() for the runner",
                )
            ]
        return figures(quick=quick)
    except Exception as error:  # one broken benchmark must not cost the others' figures
        traceback.print_exc()
        return [unavailable(benchmark.name, benchmark.name, f"failed: {error!r}")]


def describe_machine() -> dict[str, str]:
    memory = psutil.virtual_memory().total / 2**30
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "CPU": f"{_cpu_model()}, {os.cpu_count()} cores",
        "RAM": f"{memory:.1f} GiB",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "OS": _os_name(),
        "load average at the start": _load(),
    }


def render(
    chosen: list[Benchmark],
    figures: list[Figure],
    machine: dict[str, str],
    quick: bool,
    seconds: float,
) -> str:
    command = "python -m bench" + (" --quick" if quick else "")
    if len(chosen) != len(BENCHMARKS):
        command += " --only " + ",".join(benchmark.name for benchmark in chosen)
    lines = [
        "# Benchmarks",
        "",
        f"Written by `{command}` in {seconds / 60:.1f} min. Figures are ratios or rates "
        "measured within one run; the targets are those of DESIGN.md.",
    ]
    if quick:
        lines += ["", "**Quick run: tiny sizes, a smoke test only. These figures mean nothing.**"]
    lines += ["", "## Machine", ""]
    lines += [f"- {key}: {value}" for key, value in machine.items()]
    lines += ["", "## Summary", ""]
    lines += _summary(figures)
    for benchmark in chosen:
        own = [figure for figure in figures if figure.bench == benchmark.name]
        lines += ["", f"## {benchmark.name}", "", benchmark.what, ""]
        lines += ["| figure | value | target | result | notes |", "| --- | --- | --- | --- | --- |"]
        lines += [_row(figure) for figure in own]
    return "\n".join(lines) + "\n"


def _summary(figures: list[Figure]) -> list[str]:
    targeted = [figure for figure in figures if figure.passed is not None]
    missed = [figure for figure in targeted if not figure.passed]
    pending = [figure for figure in figures if figure.value is None]
    lines = [f"{len(targeted) - len(missed)} of {len(targeted)} targets met."]
    for figure in missed:
        lines.append(
            f"- MISS: {figure.bench} / {figure.name}: {figure.value_text()}, target "
            f"{figure.target}: {figure.miss_text()}"
        )
    for figure in pending:
        lines.append(f"- not measured: {figure.bench}: {figure.note}")
    return lines


def _row(figure: Figure) -> str:
    result = {True: "pass", False: f"**MISS** by {figure.miss_text()}", None: ""}[figure.passed]
    cells = [figure.name, figure.value_text(), figure.target, result, figure.note]
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return f"{line.split('=', 1)[1].strip(chr(34))}, {platform.system()} {platform.release()}"
    except OSError:
        pass
    return platform.platform()


def _load() -> str:
    try:
        return ", ".join(f"{value:.2f}" for value in os.getloadavg()) + " (1, 5, 15 min)"
    except OSError:
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
