"""Feed polling as a job of the bot's process: due feeds only, one cycle at a time.

The Poller (and its extraction worker processes) lives as long as the job; its HTTP is async
and its blocking work runs in processes and threads, so the bot's event loop only waits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from poller.config import FeedSpec
from poller.pipeline import Poller, PollReport, PollSettings
from storage import Article, NewArticle, Store

log = logging.getLogger(__name__)


class PollHooks(Protocol):
    """What happens to new articles: scored before they are stored, matched after."""

    def score(self, articles: list[NewArticle]) -> list[NewArticle]: ...

    def on_stored(self, article: Article) -> None: ...


class PollJob:
    def __init__(
        self,
        store: Store,
        feeds: Sequence[FeedSpec],
        settings: PollSettings | None = None,
        *,
        hooks: Callable[[], PollHooks] | None = None,
    ) -> None:
        """`hooks` is called once, in a thread, before the first poll (it may train a model)."""
        self.store = store
        self.feeds = list(feeds)
        self.settings = settings or PollSettings()
        self.make_hooks = hooks
        self._poller: Poller | None = None

    async def __call__(self) -> PollReport:
        if self._poller is None:
            hooks = await asyncio.to_thread(self.make_hooks) if self.make_hooks else None
            poller = Poller(
                self.store,
                self.feeds,
                self.settings,
                score=hooks.score if hooks else None,
                on_stored=hooks.on_stored if hooks else None,
            )
            self._poller = await poller.__aenter__()
        report = await self._poller.poll(only_due=True)
        if report.feeds:
            log.info(
                "polled %d feeds in %.1f s: %d new articles, %d errors",
                len(report.feeds),
                report.seconds,
                report.new_articles,
                report.errors,
            )
        return report

    async def close(self) -> None:
        if self._poller is not None:
            poller, self._poller = self._poller, None
            await poller.__aexit__(None, None, None)
