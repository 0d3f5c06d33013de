"""Ingest throughput: the whole poll pipeline against bare `trafilatura.extract`.

Generates --pages distinct article pages behind --feeds RSS feeds (bench.site: ten outlet
layouts, rewritten paragraphs, 60-240 KB of page weight, some windows-1251), serves them
from bench.server in a separate process, and times on the same pages:

  bare      trafilatura.extract(html) on each decoded page, one process (the baseline);
  pipeline  one poll into a fresh SQLite file: fetch feeds and pages over loopback, parse,
            canonical URLs, decode + extract + language in worker processes, relevance
            scoring and story matching (when those parts are present), store.

It prints articles/s for both and their ratio (the target is >= 1.0). The worker pool is
started before the clock starts, as it is in a running bot.

    python -m bench.ingest [--pages 2000] [--feeds 50] [--pad 150] [--workers N]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path

import trafilatura

from bench.proc import worker_cpu_seconds
from bench.report import Figure, at_least, info, print_figures
from bench.server import ServerProcess
from bench.site import Site, write_site
from poller.config import FeedSpec
from poller.fetch import FetchLimits
from poller.pipeline import Poller, PollReport, PollSettings
from poller.work import Workers, parse_feed_job
from storage import Store

RATIO_FLOOR = 1.0


@dataclass(frozen=True)
class Run:
    rate: float  # articles stored per second
    report: PollReport
    cpu_ms: float  # CPU of this process per article
    workers_cpu_ms: float  # CPU of the worker processes per article


@dataclass(frozen=True)
class Hooks:
    score: Callable | None
    on_stored: Callable | None
    stages: tuple[str, ...]  # what the pipeline ran, beyond fetch/parse/extract/language/store
    missing: tuple[str, ...]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--feeds", type=int, default=50)
    parser.add_argument("--pad", type=int, default=150, help="mean KB of page weight per page")
    parser.add_argument("--workers", type=int, default=None, help="default: one per core")
    args = parser.parse_args()
    print_figures(figures(args.pages, args.feeds, args.pad, args.workers))


def figures(
    pages: int = 2000,
    feeds: int = 50,
    pad: int = 150,
    workers: int | None = None,
    *,
    quick: bool = False,
) -> list[Figure]:
    if quick:
        pages, feeds, pad = min(pages, 40), min(feeds, 10), min(pad, 30)
    with tempfile.TemporaryDirectory(prefix="rw-ingest-") as folder:
        site = write_site(Path(folder) / "site", pages, feeds, pad)
        size = sum(map(len, site.pages)) / len(site.pages) / 1024
        bare, bare_cpu_ms = time_bare(site)
        store = Store(Path(folder) / "ingest.db")
        try:
            hooks = pipeline_hooks(store, Path(folder) / "models")
            run = asyncio.run(time_pipeline(site, store, hooks, workers))
        finally:
            store.close()
    setup = f"{pages} pages (mean {size:.0f} KB) behind {feeds} feeds"
    stages = "fetch+parse+extract+language" + "".join(f"+{s}" for s in hooks.stages) + "+store"
    missing = f"; not available yet: {', '.join(hooks.missing)}" if hooks.missing else ""
    return [
        info("ingest", f"bare trafilatura.extract, 1 process ({setup})", bare, "pages/s"),
        info(
            "ingest",
            "pipeline throughput",
            run.rate,
            "articles/s",
            f"{stages}{missing}; {run.report.new_articles} stored, {run.report.fallbacks} from "
            f"feed text, {run.report.errors} problems; CPU per article {run.cpu_ms:.1f} ms in "
            f"the main process + {run.workers_cpu_ms:.1f} ms in workers",
        ),
        at_least("ingest", "ingest ratio pipeline / bare", run.rate / bare, RATIO_FLOOR, "×"),
        info(
            "ingest",
            "CPU per article, whole pipeline (all processes) / bare extract",
            (run.cpu_ms + run.workers_cpu_ms) / bare_cpu_ms,
            "×",
            f"{run.cpu_ms + run.workers_cpu_ms:.1f} ms against {bare_cpu_ms:.1f} ms; unlike "
            "the throughput ratio, this one does not move with other load on the machine",
        ),
    ]


def time_bare(site: Site) -> tuple[float, float]:
    """(pages/s, CPU ms per page) of bare trafilatura.extract over the decoded pages."""
    cpu = time.process_time()
    started = time.perf_counter()
    for text in site.texts:
        trafilatura.extract(text)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    return len(site.texts) / elapsed, cpu * 1000 / len(site.texts)


async def time_pipeline(site: Site, store: Store, hooks: Hooks, workers: int | None) -> Run:
    with ServerProcess(site.root) as base:
        specs = [
            FeedSpec(name, f"{base}/{path}", language, timedelta(minutes=10))
            for name, path, language in site.feeds
        ]
        settings = PollSettings(
            limits=FetchLimits(read_timeout=60, total_timeout=600),
            allow_private_links=True,
            workers=workers,
        )
        pool = Workers(workers)
        try:
            await pool.run(parse_feed_job, b"<rss/>", None, "http://warm.up/")  # start the pool
            poller = Poller(
                store, specs, settings, score=hooks.score, on_stored=hooks.on_stored, workers=pool
            )
            async with poller:
                cpu, workers_cpu = time.process_time(), worker_cpu_seconds()
                started = time.perf_counter()
                report = await poller.poll()
                elapsed = time.perf_counter() - started
                cpu = time.process_time() - cpu
                workers_cpu = worker_cpu_seconds() - workers_cpu
        finally:
            await asyncio.to_thread(pool.close)
    stored = max(report.new_articles, 1)
    return Run(
        report.new_articles / elapsed, report, cpu * 1000 / stored, workers_cpu * 1000 / stored
    )


def pipeline_hooks(store: Store, models_dir: Path) -> Hooks:
    """Relevance scoring and story matching, as the bot wires them, when those parts exist.

    On a fresh database the model is trained from the seed corpus first (not timed)."""
    stages: list[str] = []
    missing: list[str] = []
    score = on_stored = None
    model = None
    try:
        from poller.scoring import ensure_model, score_articles
    except ImportError:
        missing.append("scoring")
    else:
        model = ensure_model(store, models_dir)
        score = partial(score_articles, model)
        stages.append("score")
    try:
        from poller.stories import StoryMatcher
    except ImportError:
        missing.append("story matching")
    else:
        on_stored = partial(_assign_story, StoryMatcher(store), model)
        stages.append("stories")
    return Hooks(score, on_stored, tuple(stages), tuple(missing))


def _assign_story(matcher, model, article) -> None:
    relevant = model is not None and article.score is not None and article.score >= model.threshold
    matcher.assign(article, relevant=relevant)


if __name__ == "__main__":
    main()
