"""Console mode (no bot token): alerts and digests are printed, nothing is sent.

`print_alerts` is also what `repostwatch demo` calls to show the alerts it would send.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, tzinfo
from typing import TextIO

from bot.digest import DigestConfig, day_stories
from bot.render import Reader, render_alert, render_digest, to_console
from storage import Store
from storage.base import utcnow
from storage.records import Story

log = logging.getLogger(__name__)


def print_alerts(stories: list[Story], out: TextIO, *, tz: tzinfo, lang: str = "en") -> int:
    """Print the alert each relevant story would get, oldest first; returns how many."""
    reader = Reader(ui_lang=lang, tz=tz)
    shown = 0
    for story in sorted(stories, key=lambda s: (s.created_at, s.id)):
        if not story.relevant:
            continue
        print(
            f"=== alert: story {story.id}\n{to_console(render_alert(story, reader).text)}\n",
            file=out,
        )
        shown += 1
    return shown


def new_stories(source: Store, since: datetime) -> list[Story]:
    """Relevant stories created since then (not merely updated)."""
    return [story for story in source.stories_since(since) if story.created_at >= since]


class ConsoleAnnouncer:
    """Prints each new relevant story once, and the digest once a day at its time."""

    def __init__(
        self,
        stories: Store,
        out: TextIO,
        digest: DigestConfig,
        *,
        lang: str = "en",
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.stories = stories
        self.out = out
        self.digest = digest
        self.lang = lang
        self.clock = clock
        self.started = clock()  # like /start: only stories from now on
        self._shown: set[int] = set()
        self._digest_days: set = set()

    def announce(self) -> int:
        fresh = [s for s in new_stories(self.stories, self.started) if s.id not in self._shown]
        self._shown.update(story.id for story in fresh)
        return print_alerts(fresh, self.out, tz=self.digest.tz, lang=self.lang)

    def digest_if_due(self) -> bool:
        now = self.clock()
        local = now.astimezone(self.digest.tz)
        scheduled = datetime.combine(local.date(), self.digest.default_time, self.digest.tz)
        if (
            local.date() in self._digest_days
            or not scheduled <= local < scheduled + self.digest.grace
        ):
            return False
        self._digest_days.add(local.date())
        stories = day_stories(self.stories, scheduled)
        if not stories and self.digest.skip_empty:
            return False
        reader = Reader(ui_lang=self.lang, tz=self.digest.tz)
        for part in render_digest(stories, reader, day=local.date()):
            print(f"=== daily digest\n{to_console(part)}\n", file=self.out)
        return True


async def run_console(
    announcer: ConsoleAnnouncer,
    poll: Callable[[], Awaitable[object]] | None,
    *,
    every: timedelta = timedelta(seconds=30),
) -> None:
    """Poll, print what is new, sleep; until cancelled (Ctrl-C)."""
    while True:
        if poll is not None:
            await _logged("poll cycle", poll())
        await _logged("printing alerts", asyncio.to_thread(announcer.announce))
        await _logged("printing the digest", asyncio.to_thread(announcer.digest_if_due))
        await asyncio.sleep(every.total_seconds())


async def _logged(what: str, step: Awaitable[object]) -> None:
    try:
        await step
    except Exception:
        log.exception("console mode: %s failed; trying again next round", what)
