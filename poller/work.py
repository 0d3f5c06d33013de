"""The CPU-bound steps of a poll, run in worker processes: parse a feed; decode, extract and
detect the language of a page. Plain functions of plain, picklable values; the module imports
only what they need so worker processes start light.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from typing import TypeVar

from poller.extract import extract_article
from poller.feeditems import FeedItems, parse_feed_items
from poller.language import detect_language
from poller.pages import decode_html
from poller.parse import ParsedFeed, parse_feed

T = TypeVar("T")
_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml")


@dataclass(frozen=True)
class PageJob:
    """One new entry: its page (None when the fetch failed) and the feed's own text."""

    url: str
    page: bytes | None
    content_type: str | None
    language: str  # the feed's declared language, the prior for detection
    title: str
    feed_text: str  # content:encoded / Atom content, else the summary


@dataclass(frozen=True)
class PageOutcome:
    text: str
    lang: str
    source: str  # "page" or "feed"
    title: str | None = None
    published: datetime | None = None
    author: str | None = None
    note: str | None = None  # why the page was not used, when that is worth reporting


def process_page(job: PageJob) -> PageOutcome:
    """Extract the article from the page, or fall back to the feed's text."""
    if job.page is None:
        return feed_fallback(job)
    if not _is_html(job.content_type):
        return feed_fallback(job, f"not an HTML page ({job.content_type}): {job.url}")
    try:
        extracted = extract_article(decode_html(job.page, job.content_type), url=job.url)
    except Exception as error:  # a hostile page must cost one article, not the poll
        return feed_fallback(job, f"extraction failed on {job.url}: {type(error).__name__}")
    if extracted is None:
        return feed_fallback(job)
    return PageOutcome(
        text=extracted.text,
        lang=detect_language(extracted.text, prior=job.language),
        source="page",
        title=extracted.title,
        published=extracted.published,
        author=extracted.author,
    )


def feed_fallback(job: PageJob, note: str | None = None) -> PageOutcome:
    text = job.feed_text.strip()
    return PageOutcome(
        text=text,
        lang=detect_language(text or job.title, prior=job.language),
        source="feed",
        note=note,
    )


def parse_feed_job(body: bytes, content_type: str | None, url: str) -> ParsedFeed:
    return parse_feed(body, content_type=content_type, url=url)


def parse_feed_items_job(
    body: bytes, content_type: str | None, url: str, known: frozenset[str]
) -> FeedItems:
    """Parse a feed body, leaving out the items whose key is in `known`."""
    return parse_feed_items(body, content_type, url, known)


def _is_html(content_type: str | None) -> bool:
    if not content_type:
        return True
    return content_type.split(";", 1)[0].strip().lower() in _HTML_TYPES


class Workers:
    """A process pool for the CPU-bound steps, rebuilt if a worker dies.

    Workers come from a fork server that has already imported this module (and trafilatura),
    so they start fast and never fork a process that has threads running. Each worker holds
    the read end of a pipe whose write end only this process has: when this process dies,
    even by SIGKILL, the workers see the pipe close and exit instead of waiting for work
    forever (they, and the fork server they keep alive, would pile up across restarts).
    The pool starts with the first job and is let go once no job has come for
    `idle_seconds`: between polls minutes apart the workers would only hold memory, and the
    fork server brings them back in a few tens of milliseconds.
    """

    def __init__(self, count: int | None = None, *, idle_seconds: float | None = 60.0) -> None:
        self.count = max(1, count or os.cpu_count() or 1)
        self.idle_seconds = idle_seconds
        self._pool: Executor | None = None
        self._lifeline: tuple[Connection, Connection] | None = None
        self._running = 0
        self._release_timer: asyncio.TimerHandle | None = None

    @property
    def started(self) -> bool:
        return self._pool is not None

    async def run(self, function: Callable[..., T], *args: object) -> T:
        pool = self._ensure()
        loop = asyncio.get_running_loop()
        self._running += 1
        if self._release_timer is not None:
            self._release_timer.cancel()
            self._release_timer = None
        try:
            return await loop.run_in_executor(pool, function, *args)
        except BrokenProcessPool:
            self._discard(pool)
            raise
        finally:
            self._running -= 1
            if self._running == 0 and self.idle_seconds is not None:
                self._release_timer = loop.call_later(self.idle_seconds, self._release_idle)

    def close(self) -> None:
        if self._release_timer is not None:
            self._release_timer.cancel()
            self._release_timer = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._lifeline is not None:
            for end in self._lifeline:
                end.close()
            self._lifeline = None

    def _ensure(self) -> Executor:
        if self._pool is None:
            context = _context()
            if self._lifeline is None:
                self._lifeline = context.Pipe(duplex=False)
            self._pool = ProcessPoolExecutor(
                max_workers=self.count,
                mp_context=context,
                initializer=_start_worker,
                initargs=(self._lifeline[0],),
            )
        return self._pool

    def _release_idle(self) -> None:
        self._release_timer = None
        if self._running == 0 and self._pool is not None:
            pool, self._pool = self._pool, None
            pool.shutdown(wait=False)  # the workers are idle: they exit at once

    def _discard(self, pool: Executor) -> None:
        if self._pool is pool:
            self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)


def _start_worker(lifeline: Connection) -> None:
    # Ctrl-C is for the main process, which then shuts the pool down; workers just finish.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_poller, args=(lifeline,), daemon=True).start()


def _exit_with_poller(lifeline: Connection) -> None:
    """Block until the poller's end of the lifeline closes, then leave at once."""
    with contextlib.suppress(EOFError, OSError):
        lifeline.recv_bytes()
    os._exit(0)


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        return context
    return multiprocessing.get_context("spawn")
