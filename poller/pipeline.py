"""One poll cycle: due feeds -> conditional fetch -> parse -> new entries -> pages -> extract ->
language -> (score) -> store -> (on_stored), with every feed's state recorded.

The event loop only waits: HTTP is async, parsing and extraction run in worker processes,
and database calls and hooks run in threads. A page that fails falls back to the feed's own
text; a feed that fails is recorded with a backoff and the other feeds go on.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from types import TracebackType
from urllib.parse import urljoin

from poller.config import FeedSpec
from poller.fetch import Fetcher, FetchLimits, FetchResult
from poller.memory import memory_releaser
from poller.parse import FeedEntry, ParsedFeed
from poller.urls import canonical_url
from poller.work import (
    PageJob,
    PageOutcome,
    Workers,
    feed_fallback,
    parse_feed_items_job,
    process_page,
)
from storage import Article, FeedState, NewArticle, Store
from storage.base import utcnow

log = logging.getLogger(__name__)

FEED_WRITE_BATCH = 100

Score = Callable[[list[NewArticle]], list[NewArticle]]
OnStored = Callable[[Article], None]


@dataclass(frozen=True)
class PollSettings:
    limits: FetchLimits = field(default_factory=FetchLimits)
    allow_private_links: bool = False  # let item links reach loopback/private addresses
    workers: int | None = None  # extraction processes; None = one per core
    release_workers_after: timedelta | None = timedelta(minutes=1)  # idle; None = keep them
    max_backoff: timedelta = timedelta(hours=6)
    # New entries taken from one feed per poll: bounds the pages one feed makes us fetch and
    # hold in memory. The rest wait for the next poll (the feed's validators are not kept).
    max_new_per_feed: int = 300


@dataclass(frozen=True)
class PollProgress:
    feeds_total: int
    feeds_done: int
    pages_total: int  # new entries whose pages are being fetched and extracted
    pages_done: int
    stored: int
    finished: FeedReport | None = None  # set on the update that reports a feed as done


@dataclass(frozen=True)
class FeedReport:
    name: str
    status: str  # "ok", "not-modified" or "error"
    http_status: int | None = None
    entries: int = 0  # entries in the feed body
    new_articles: int = 0  # stored by this poll
    pages_fetched: int = 0
    fallbacks: int = 0  # stored from the feed's own text
    error: str | None = None  # why the feed itself failed
    warning: str | None = None  # e.g. a malformed feed that still had entries
    errors: tuple[str, ...] = ()  # pages, scoring and hooks that failed; the feed went on
    next_poll_at: datetime | None = None


@dataclass(frozen=True)
class PollReport:
    started_at: datetime
    finished_at: datetime
    feeds: tuple[FeedReport, ...]

    @property
    def seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def entries(self) -> int:
        return sum(feed.entries for feed in self.feeds)

    @property
    def new_articles(self) -> int:
        return sum(feed.new_articles for feed in self.feeds)

    @property
    def pages_fetched(self) -> int:
        return sum(feed.pages_fetched for feed in self.feeds)

    @property
    def fallbacks(self) -> int:
        return sum(feed.fallbacks for feed in self.feeds)

    @property
    def errors(self) -> int:
        return sum(len(feed.errors) + (feed.error is not None) for feed in self.feeds)

    def count(self, status: str) -> int:
        return sum(feed.status == status for feed in self.feeds)


@dataclass(frozen=True)
class _Candidate:
    url: str  # canonical
    link: str  # as the feed gave it; what is fetched
    entry: FeedEntry


class _Cycle:
    """What one cycle shares between its feeds: URLs already taken, and progress counts."""

    def __init__(self, feeds_total: int, on_progress: Callable[[PollProgress], None] | None):
        self.claimed: set[str] = set()
        self.feed_writes: list[Callable[[], None]] = []
        self.feeds_total = feeds_total
        self.feeds_done = self.pages_total = self.pages_done = self.stored = 0
        self.on_progress = on_progress

    def claim(self, url: str) -> bool:
        if url in self.claimed:
            return False
        self.claimed.add(url)
        return True

    def bump(self, finished: FeedReport | None = None, **counts: int) -> None:
        for name, count in counts.items():
            setattr(self, name, getattr(self, name) + count)
        if self.on_progress is not None:
            self.on_progress(
                PollProgress(
                    self.feeds_total,
                    self.feeds_done,
                    self.pages_total,
                    self.pages_done,
                    self.stored,
                    finished,
                )
            )


class _LinkCache:
    """Canonical and absolute URLs of feed links, remembered between cycles: a feed lists
    the same entries poll after poll, and canonicalising them was a third of the CPU an
    unchanged-but-refetched feed cost."""

    MAX_ENTRIES = 100_000

    def __init__(self) -> None:
        self._known: dict[tuple[str, str], tuple[str, str] | None] = {}

    def resolve(self, link: str, base: str) -> tuple[str, str] | None:
        """(canonical URL, absolute link) of an entry's link, or None when it is unusable."""
        key = (link, base)
        try:
            return self._known[key]
        except KeyError:
            pass
        try:
            urls: tuple[str, str] | None = (canonical_url(link, base=base), url_join(link, base))
        except ValueError:
            urls = None
        if len(self._known) >= self.MAX_ENTRIES:
            self._known.clear()
        self._known[key] = urls
        return urls


class Poller:
    """Polls a set of feeds into a Store; use as `async with Poller(...) as poller:`."""

    def __init__(
        self,
        store: Store,
        feeds: Sequence[FeedSpec],
        settings: PollSettings | None = None,
        *,
        score: Score | None = None,
        on_stored: OnStored | None = None,
        on_progress: Callable[[PollProgress], None] | None = None,
        workers: Workers | None = None,
    ) -> None:
        self.store = store
        self.feeds = list(feeds)
        self.settings = settings or PollSettings()
        self.score = score
        self.on_stored = on_stored
        self.on_progress = on_progress
        self._own_workers = workers is None
        idle = self.settings.release_workers_after
        self.workers = workers or Workers(
            self.settings.workers, idle_seconds=idle.total_seconds() if idle else None
        )
        self.fetcher: Fetcher | None = None
        self._links = _LinkCache()
        self._score_lock = threading.Lock()
        self._release_memory = memory_releaser()
        # Each feed's entries as of its last parsed body, by item key (see poller.feeditems).
        self._feed_items: dict[str, dict[str, FeedEntry]] = {}
        # Pages fetched but not yet extracted hold their bodies in memory: bound them.
        self._article_slots = asyncio.Semaphore(self.settings.limits.page_concurrency * 2)

    async def __aenter__(self) -> Poller:
        feeds = [(feed.name, feed.url, feed.language) for feed in self.feeds]
        await asyncio.to_thread(self.store.sync_feeds, feeds)
        self.fetcher = Fetcher(
            self.settings.limits, allow_private_links=self.settings.allow_private_links
        )
        return self

    async def __aexit__(
        self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.fetcher is not None:
            await self.fetcher.aclose()
        if self._own_workers:
            await asyncio.to_thread(self.workers.close)

    async def poll(self, *, only_due: bool = False) -> PollReport:
        """Poll every feed (or only those due), concurrently; never raises for a feed's failure."""
        started = utcnow()
        states = {state.name: state for state in await asyncio.to_thread(self.store.feed_states)}
        due = [
            feed for feed in self.feeds if not only_due or _is_due(states.get(feed.name), started)
        ]
        cycle = _Cycle(len(due), self.on_progress)
        try:
            reports = await asyncio.gather(
                *(self._poll_feed_safely(feed, states.get(feed.name), cycle) for feed in due)
            )
        finally:
            await self._flush_feed_writes(cycle)
            if cycle.pages_total:
                self._release_memory()
        return PollReport(started_at=started, finished_at=utcnow(), feeds=tuple(reports))

    async def next_due(self) -> datetime | None:
        states = await asyncio.to_thread(self.store.feed_states)
        times = [state.next_poll_at or utcnow() for state in states]
        return min(times) if times else None

    async def run_forever(self, on_report: Callable[[PollReport], None]) -> None:
        """Poll due feeds, sleep until the next one is due, repeat (until cancelled)."""
        while True:
            on_report(await self.poll(only_due=True))
            next_due = await self.next_due()
            wait = (next_due - utcnow()).total_seconds() if next_due else 60.0
            await asyncio.sleep(min(max(wait, 1.0), 3600.0))

    # --- one feed --------------------------------------------------------------------------

    async def _poll_feed_safely(
        self, feed: FeedSpec, state: FeedState | None, cycle: _Cycle
    ) -> FeedReport:
        try:
            report = await self._poll_feed(feed, state, cycle)
        except Exception as error:  # a bug or a dead database must not stop the other feeds
            log.exception("poll of %s failed", feed.name)
            report = await self._record_error(
                feed, state, f"internal error: {error!r}", None, cycle
            )
        log.debug("%s", describe_feed(report))
        cycle.bump(finished=report, feeds_done=1)
        return report

    async def _poll_feed(
        self, feed: FeedSpec, state: FeedState | None, cycle: _Cycle
    ) -> FeedReport:
        assert self.fetcher is not None, "use Poller as an async context manager"
        fetched = await self.fetcher.fetch_feed(
            feed.url,
            etag=state.etag if state else None,
            last_modified=state.last_modified if state else None,
        )
        if fetched.error:
            return await self._record_error(feed, state, fetched.error, fetched.status, cycle)
        if fetched.not_modified:
            return await self._record_not_modified(feed, cycle)
        parsed = await self._parse(feed, fetched)
        if parsed.error:
            return await self._record_error(feed, state, parsed.error, fetched.status, cycle)
        candidates, skipped = await self._new_candidates(feed, parsed.entries, cycle)
        deferred = max(0, len(candidates) - self.settings.max_new_per_feed)
        if deferred:
            candidates = candidates[: self.settings.max_new_per_feed]
            skipped.append(
                f"{deferred} more new entries left for the next poll "
                f"(at most {self.settings.max_new_per_feed} per feed and poll)"
            )
            fetched = replace(fetched, etag=None, last_modified=None)  # fetch it in full again
        cycle.bump(pages_total=len(candidates))
        outcomes = await asyncio.gather(*(self._article(feed, c, cycle) for c in candidates))
        articles = [article for article, _, _ in outcomes]
        errors = [*skipped, *(note for _, _, notes in outcomes for note in notes)]
        articles, score_error = await self._scored(articles)
        stored, store_errors = await self._store(articles, cycle)
        errors += [*score_error, *store_errors]
        stored_urls = {article.url for article in stored}
        now = utcnow()
        next_poll = now + feed.interval
        problems = [*([parsed.warning] if parsed.warning else []), *errors]
        await self._defer_feed_write(
            cycle,
            partial(self._record_ok, feed, fetched, len(parsed.entries), problems, now, next_poll),
        )
        return FeedReport(
            name=feed.name,
            status="ok",
            http_status=fetched.status,
            entries=len(parsed.entries),
            new_articles=len(stored),
            pages_fetched=sum(fetched_page for _, fetched_page, _ in outcomes),
            fallbacks=sum(
                article.source == "feed" and article.url in stored_urls for article in articles
            ),
            warning=parsed.warning,
            errors=tuple(errors),
            next_poll_at=next_poll,
        )

    async def _parse(self, feed: FeedSpec, fetched: FetchResult) -> ParsedFeed:
        """Parse the body; items this feed carried last time are not parsed again."""
        known = self._feed_items.get(feed.name, {})
        try:
            items = await self.workers.run(
                parse_feed_items_job,
                fetched.body,
                fetched.content_type,
                fetched.final_url,
                frozenset(known),
            )
        except BrokenProcessPool:
            return ParsedFeed(title="", entries=(), error="feed parser crashed on this feed")
        if not items.error:
            self._feed_items[feed.name] = items.remembered(known)
        return items.feed(known)

    async def _new_candidates(
        self, feed: FeedSpec, entries: Sequence[FeedEntry], cycle: _Cycle
    ) -> tuple[list[_Candidate], list[str]]:
        """Entries whose canonical URL is neither stored nor taken this cycle, and the entries
        skipped for want of a usable link."""
        by_url: dict[str, _Candidate] = {}
        skipped: list[str] = []
        for entry in entries:
            link = entry.link or (entry.guid if _is_web_link(entry.guid) else None)
            urls = self._links.resolve(link, feed.url) if link else None
            if urls is None:
                skipped.append(f"entry without a usable link skipped: {entry.title[:80]!r}")
                continue
            url, absolute = urls
            by_url.setdefault(url, _Candidate(url=url, link=absolute, entry=entry))
        stored = await asyncio.to_thread(self.store.stored_urls, list(by_url))
        fresh = [c for url, c in by_url.items() if url not in stored and cycle.claim(url)]
        return fresh, skipped

    async def _article(
        self, feed: FeedSpec, candidate: _Candidate, cycle: _Cycle
    ) -> tuple[NewArticle, bool, list[str]]:
        """The article for one new entry, whether its page was fetched, and what went wrong."""
        assert self.fetcher is not None
        notes: list[str] = []
        async with self._article_slots:
            page = await self.fetcher.fetch_page(candidate.link)
            if page.error:
                notes.append(page.error)
            job = PageJob(
                url=candidate.url,
                page=page.body if page.ok else None,
                content_type=page.content_type,
                language=feed.language,
                title=candidate.entry.title,
                feed_text=candidate.entry.content or candidate.entry.summary,
            )
            try:
                outcome = await self.workers.run(process_page, job)
            except BrokenProcessPool:
                notes.append(f"extraction worker crashed on {candidate.link}")
                outcome = await asyncio.to_thread(feed_fallback, job)
        if outcome.note:
            notes.append(outcome.note)
        cycle.bump(pages_done=1)
        return _new_article(feed, candidate, outcome), page.ok, notes

    async def _scored(self, articles: list[NewArticle]) -> tuple[list[NewArticle], list[str]]:
        if self.score is None or not articles:
            return articles, []
        try:
            return await asyncio.to_thread(self._score_one_batch_at_a_time, articles), []
        except Exception as error:  # unscored articles are still worth keeping
            log.exception("scoring failed")
            return articles, [f"scoring failed: {error!r}"]

    def _score_one_batch_at_a_time(self, articles: list[NewArticle]) -> list[NewArticle]:
        """Feeds finish together, but a scorer need not be thread-safe (the classifier's
        caches are not: concurrent batches corrupted each other's features)."""
        assert self.score is not None
        with self._score_lock:
            return self.score(articles)

    async def _store(
        self, articles: list[NewArticle], cycle: _Cycle
    ) -> tuple[list[Article], list[str]]:
        stored: list[Article] = []
        errors: list[str] = []
        for new in articles:
            article = await asyncio.to_thread(self.store.add_article, new)
            if article is None:
                continue  # another poll stored it meanwhile
            stored.append(article)
            cycle.bump(stored=1)
            if self.on_stored is not None:
                try:
                    await asyncio.to_thread(self.on_stored, article)
                except Exception as error:  # the article is stored; the hook can catch up
                    log.exception("on_stored hook failed for %s", article.url)
                    errors.append(f"on_stored failed for {article.url}: {error!r}")
        return stored, errors

    # --- feed state --------------------------------------------------------------------------

    async def _defer_feed_write(self, cycle: _Cycle, write: Callable[[], None]) -> None:
        """Queue a feed's state update; they are written together, a batch at a time.

        One transaction per batch instead of one per feed (and one thread hop per feed):
        a cycle of 300 unchanged feeds is mostly these writes otherwise. Losing a batch to a
        crash costs nothing but a full fetch of those feeds next time.
        """
        cycle.feed_writes.append(write)
        if len(cycle.feed_writes) >= FEED_WRITE_BATCH:
            await self._flush_feed_writes(cycle)

    async def _flush_feed_writes(self, cycle: _Cycle) -> None:
        writes, cycle.feed_writes = cycle.feed_writes, []
        if writes:
            await asyncio.to_thread(self._write_feed_states, writes)

    def _write_feed_states(self, writes: list[Callable[[], None]]) -> None:
        try:
            with self.store.transaction():
                for write in writes:
                    write()
        except Exception:  # one bad write must not cost the others theirs
            log.exception(
                "writing %d feed states at once failed; writing them one by one", len(writes)
            )
            for write in writes:
                try:
                    write()
                except Exception:
                    log.exception("writing a feed state failed")

    def _record_ok(
        self,
        feed: FeedSpec,
        fetched: FetchResult,
        items: int,
        problems: list[str],
        now: datetime,
        next_poll: datetime,
    ) -> None:
        self.store.record_feed_ok(
            feed.name,
            at=now,
            next_poll_at=next_poll,
            http_status=fetched.status or 200,
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            items=items,
            problems=problems,
        )

    async def _record_not_modified(self, feed: FeedSpec, cycle: _Cycle) -> FeedReport:
        now = utcnow()
        next_poll = now + feed.interval
        await self._defer_feed_write(
            cycle,
            partial(self.store.record_feed_not_modified, feed.name, at=now, next_poll_at=next_poll),
        )
        return FeedReport(
            name=feed.name, status="not-modified", http_status=304, next_poll_at=next_poll
        )

    async def _record_error(
        self,
        feed: FeedSpec,
        state: FeedState | None,
        error: str,
        http_status: int | None,
        cycle: _Cycle,
    ) -> FeedReport:
        now = utcnow()
        failures = (state.error_count if state else 0) + 1
        next_poll = now + backoff(feed.interval, failures, self.settings.max_backoff)
        await self._defer_feed_write(
            cycle,
            partial(
                self.store.record_feed_error,
                feed.name,
                error,
                at=now,
                next_poll_at=next_poll,
                http_status=http_status,
            ),
        )
        return FeedReport(
            name=feed.name,
            status="error",
            http_status=http_status,
            error=error,
            next_poll_at=next_poll,
        )


def backoff(interval: timedelta, failures: int, cap: timedelta) -> timedelta:
    """Wait after `failures` consecutive errors: the interval doubled per failure, capped."""
    return min(interval * 2 ** min(failures, 20), max(cap, interval))


def url_join(link: str, base: str) -> str:
    return urljoin(base, link.strip())


async def poll_once(
    store: Store,
    feeds: Sequence[FeedSpec],
    settings: PollSettings | None = None,
    *,
    score: Score | None = None,
    on_stored: OnStored | None = None,
    on_progress: Callable[[PollProgress], None] | None = None,
) -> PollReport:
    """Poll every feed once (a convenience for the CLI, the demo and tests)."""
    poller = Poller(
        store, feeds, settings, score=score, on_stored=on_stored, on_progress=on_progress
    )
    async with poller:
        return await poller.poll()


def _new_article(feed: FeedSpec, candidate: _Candidate, outcome: PageOutcome) -> NewArticle:
    entry = candidate.entry
    return NewArticle(
        url=candidate.url,
        feed=feed.name,
        title=entry.title or outcome.title or candidate.url,
        text=outcome.text,
        lang=outcome.lang,
        source=outcome.source,
        published=entry.published or outcome.published,
        author=entry.author or outcome.author,
        guid=entry.guid,
    )


def _is_due(state: FeedState | None, now: datetime) -> bool:
    return state is None or state.next_poll_at is None or state.next_poll_at <= now


def _is_web_link(value: str | None) -> bool:
    return bool(value) and value.startswith(("http://", "https://"))


def describe_feed(report: FeedReport) -> str:
    """One line on how a feed's poll went."""
    if report.status == "error":
        return f"{report.name}: error: {report.error}"
    if report.status == "not-modified":
        return f"{report.name}: not modified"
    text = (
        f"{report.name}: ok, {report.entries} entries, {report.new_articles} new, "
        f"{report.pages_fetched} pages, {report.fallbacks} from feed text"
    )
    if report.warning:
        text += f" (warning: {report.warning})"
    if report.errors:
        text += f"; {len(report.errors)} problems, first: {report.errors[0]}"
    return text
