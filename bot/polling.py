"""Feed polling as a job of the bot's process: due feeds only, one cycle at a time.

The Poller (and its extraction worker processes) lives as long as the job; its HTTP is async
and its blocking work runs in processes and threads, so the bot's event loop only waits.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from poller.config import FeedSpec
from poller.pipeline import OnStored, Poller, PollReport, PollSettings, Score

log = logging.getLogger(__name__)


class PollJob:
    def __init__(
        self,
        store,
        feeds: Sequence[FeedSpec],
        settings: PollSettings | None = None,
        *,
        score: Score | None = None,
        on_stored: OnStored | None = None,
    ) -> None:
        self.store = store
        self.feeds = list(feeds)
        self.settings = settings or PollSettings()
        self.score = score
        self.on_stored = on_stored
        self._poller: Poller | None = None

    async def __call__(self) -> PollReport:
        if self._poller is None:
            poller = Poller(
                self.store, self.feeds, self.settings, score=self.score, on_stored=self.on_stored
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
