"""The daily digest: each subscriber's at their time, enqueued once per local day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from bot.render import Reader, render_digest, stories_for
from storage import Store
from storage.records import Story, Subscriber

DAY = timedelta(days=1)


@dataclass(frozen=True)
class DigestConfig:
    default_time: time = time(9, 0)
    tz: tzinfo = UTC
    skip_empty: bool = False  # True: a day without stories sends nothing
    grace: timedelta = timedelta(hours=3)  # a digest more than this late is skipped


def day_stories(stories: Store, end: datetime) -> list[Story]:
    """The relevant stories created in the 24 hours before `end`."""
    start = end - DAY
    return sorted(
        (s for s in stories.stories_since(start) if s.relevant and start <= s.created_at < end),
        key=lambda story: (story.created_at, story.id),
    )


def reader_of(
    subscriber: Subscriber | None, tz: tzinfo, *, moderator: bool = False, lang: str = "en"
) -> Reader:
    """How to render for a chat: its settings, or `lang` and both languages if it has none."""
    if subscriber is None:
        return Reader(ui_lang=lang, tz=tz, moderator=moderator)
    return Reader(
        ui_lang=subscriber.ui_lang, story_langs=subscriber.story_langs, tz=tz, moderator=moderator
    )


class DigestScheduler:
    """Puts each subscriber's digest into the outbox once their local time has come."""

    def __init__(self, store: Store, config: DigestConfig):
        self.store = store
        self.config = config

    def enqueue_due(self, now: datetime) -> int:
        """Enqueue the digests that are due now; returns how many chats got one."""
        tz = self.config.tz
        local = now.astimezone(tz)
        day = local.date()
        done = self.store.digest_days(day)
        by_end: dict[datetime, list[Story]] = {}
        rendered: dict[tuple, list[str]] = {}
        enqueued = 0
        for subscriber in self.store.digest_subscribers():
            if subscriber.chat_id in done:
                continue
            scheduled = datetime.combine(
                day, subscriber.digest_time or self.config.default_time, tz
            )
            if not scheduled <= local < scheduled + self.config.grace:
                continue
            if subscriber.subscribed_at >= scheduled:
                continue  # subscribed after today's digest time: tomorrow's is the first
            if scheduled not in by_end:
                by_end[scheduled] = day_stories(self.store, scheduled)
            key = (scheduled, subscriber.ui_lang, subscriber.story_langs)
            if key not in rendered:
                rendered[key] = self._parts(by_end[scheduled], subscriber, day)
            if self.store.enqueue_digest(subscriber.chat_id, day, rendered[key], at=now):
                enqueued += 1
        return enqueued

    def _parts(self, stories: list[Story], subscriber: Subscriber, day: date) -> list[str]:
        reader = reader_of(subscriber, self.config.tz)
        if self.config.skip_empty and not stories_for(reader, stories):
            return []  # the day is still marked done, so it is not looked at again
        return render_digest(stories, reader, day=day)
