"""The real python-telegram-bot Application, long-polling a fake Bot API on loopback."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from telegram.ext import Application

from bot.app import Schedule, build_application, runtime
from bot.delivery import DeliveryConfig
from bot.settings import Settings
from bot.throttle import CommandThrottle
from storage import Store
from storage.base import utcnow
from tests.fakebotapi import FakeBotAPI, Message

MODERATOR = 5001
READER_RU = 6001
READER_EN = 6002


@dataclass
class Harness:
    api: FakeBotAPI
    app: Application
    store: Store

    async def command(self, text: str, *, user_id: int, lang: str | None = "en", **kw) -> Message:
        """Send a command and wait for the bot's next message to that chat."""
        chat_id = kw.pop("chat_id", user_id)
        before = len(self.api.sent(chat_id))
        self.api.command(text, user_id=user_id, chat_id=chat_id, language_code=lang, **kw)
        messages = await self.api.wait_messages(chat_id, before + 1)
        return messages[before]

    async def press(
        self, message: Message, data: str, *, user_id: int, lang: str = "en", edits: bool = True
    ) -> str:
        """Press a button and wait for the answer (and, with `edits`, the message's edit);
        returns the text the bot answered the callback with."""
        answered = len(self.api.calls_to("answerCallbackQuery"))
        edited = len(self.api.calls_to("editMessageText"))
        self.api.press(message, data, user_id=user_id, language_code=lang)
        await self.api.wait_for(lambda: len(self.api.calls_to("answerCallbackQuery")) > answered)
        if edits:
            await self.api.wait_for(lambda: len(self.api.calls_to("editMessageText")) > edited)
        return self.api.calls_to("answerCallbackQuery")[answered].params.get("text", "")

    async def settle(self) -> None:
        """Wait until the bot has taken every scripted update."""
        await self.api.wait_for(lambda: self.api.pending_updates() == 0)

    @property
    def delivery(self):
        return runtime(self.app).delivery


def settings_for(api: FakeBotAPI, data_dir: Path, **changes: object) -> Settings:
    values = dict(
        data_dir=data_dir,
        token=api.token,
        api_url=api.base_url,
        moderators=frozenset({MODERATOR}),
        timezone="Europe/Moscow",
    )
    return Settings(**{**values, **changes})


@contextlib.asynccontextmanager
async def running_bot(
    store: Store,
    data_dir: Path,
    *,
    api: FakeBotAPI | None = None,
    schedule: Schedule | None = None,
    delivery: DeliveryConfig | None = None,
    throttle: CommandThrottle | None = None,
    request_timeout: float = 2.0,
    clock: Callable[[], datetime] = utcnow,
    poll: Callable[[], Awaitable[object]] | None = None,
    **settings: object,
) -> AsyncIterator[Harness]:
    """Start the bot as `run_polling` would (initialize, post_init, polling, start) and stop it
    the same way; the jobs run on a fast schedule unless told otherwise."""
    own_api = api is None
    api = api or FakeBotAPI().start()
    config = settings_for(api, data_dir, **settings)
    app = build_application(
        config,
        store,
        schedule=schedule or Schedule(delivery_every=0.2, digest_every=0.3, poll_every=0.3),
        delivery=delivery,
        throttle=throttle,
        request_timeout=request_timeout,
        clock=clock,
        poll=poll,
    )
    await app.initialize()
    await app.post_init(app)
    await app.updater.start_polling(poll_interval=0, timeout=1)
    await app.start()
    try:
        yield Harness(api, app, store)
    finally:
        await app.updater.stop()
        await app.stop()
        await app.post_stop(app)
        await app.shutdown()
        if own_api:
            api.stop()
