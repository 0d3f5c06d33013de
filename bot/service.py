"""What the bot's handlers ask for: subscriptions, settings and digests on demand.

Every method is async and runs its database work in a thread, so a handler awaiting it never
blocks the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, tzinfo

from bot.digest import day_stories, reader_of
from bot.render import render_digest
from bot.texts import ui_language
from storage import Store
from storage.base import utcnow
from storage.records import Subscriber


@dataclass(frozen=True)
class BotConfig:
    tz: tzinfo = UTC
    timezone_name: str = "UTC"
    default_digest_time: time = time(9, 0)
    moderators: frozenset[int] = frozenset()


class Subscriptions:
    def __init__(
        self,
        store: Store,
        config: BotConfig,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.config = config
        self.clock = clock

    def is_moderator(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.config.moderators

    async def start(
        self, chat_id: int, user_id: int | None, language_code: str | None
    ) -> tuple[Subscriber, bool]:
        return await asyncio.to_thread(
            self.store.subscribe,
            chat_id,
            user_id=user_id,
            ui_lang=ui_language(language_code),
            at=self.clock(),
        )

    async def stop(self, chat_id: int) -> bool:
        return await asyncio.to_thread(
            self.store.deactivate_subscriber, chat_id, reason="/stop", at=self.clock()
        )

    async def subscriber(self, chat_id: int) -> Subscriber | None:
        """The chat's subscription, if it is active."""
        found = await asyncio.to_thread(self.store.subscriber, chat_id)
        return found if found is not None and found.active else None

    async def language(self, chat_id: int, language_code: str | None) -> str:
        """The bot's language in this chat: the chosen one, else the user's Telegram one."""
        found = await asyncio.to_thread(self.store.subscriber, chat_id)
        return found.ui_lang if found is not None else ui_language(language_code)

    async def update(self, chat_id: int, **settings: object) -> Subscriber | None:
        if await self.subscriber(chat_id) is None:
            return None
        return await asyncio.to_thread(
            self.store.update_subscriber, chat_id, at=self.clock(), **settings
        )

    async def toggle(self, chat_id: int, setting: str) -> Subscriber | None:
        current = await self.subscriber(chat_id)
        if current is None:
            return None
        return await self.update(chat_id, **{setting: not getattr(current, setting)})

    def digest_time(self, subscriber: Subscriber) -> time:
        return subscriber.digest_time or self.config.default_digest_time

    async def digest_now(self, chat_id: int, language_code: str | None) -> list[str]:
        """The last 24 hours for this chat, as messages."""
        now = self.clock()
        found = await asyncio.to_thread(self.store.subscriber, chat_id)
        stories = await asyncio.to_thread(day_stories, self.store, now)
        reader = reader_of(found, self.config.tz, lang=ui_language(language_code))
        return render_digest(stories, reader, day=now.astimezone(self.config.tz).date())
