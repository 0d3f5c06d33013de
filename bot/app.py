"""The one process: the Telegram Application, its handlers and jobs (polling, delivery, digest).

`build_application` only wires; the work is in handlers, delivery, digest and the poller.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from telegram import Update
from telegram.ext import AIORateLimiter, Application, ContextTypes

from bot.console import ConsoleAnnouncer, run_console
from bot.delivery import Delivery, DeliveryConfig
from bot.digest import DigestConfig, DigestScheduler
from bot.handlers import Services, add_handlers, register_commands
from bot.logsafe import Redactor
from bot.moderation import Moderation
from bot.polling import PollJob
from bot.relevance import RelevanceHooks
from bot.sender import TelegramSender
from bot.service import BotConfig, Subscriptions
from bot.settings import Settings
from bot.throttle import CommandThrottle
from poller.config import load_feeds
from poller.pipeline import PollSettings
from storage import Store
from storage.base import utcnow

log = logging.getLogger(__name__)

PollCycle = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Schedule:
    delivery_every: float = 5.0  # seconds between delivery runs (a run also starts on new work)
    digest_every: float = 60.0  # how often due digests are looked for
    poll_every: float = 60.0  # how often due feeds are looked for; each feed has its interval


class OneAtATime:
    """Runs an async job in the background, never two at once; a job that fails is logged."""

    def __init__(self, name: str, job: Callable[[], Awaitable[object]]) -> None:
        self.name = name
        self.job = job
        self._task: asyncio.Task | None = None

    def kick(self) -> bool:
        if self._task is not None and not self._task.done():
            return False
        self._task = asyncio.get_running_loop().create_task(self._run())
        return True

    async def _run(self) -> None:
        try:
            await self.job()
        except Exception:
            log.exception("%s failed; it runs again on schedule", self.name)

    async def close(self, timeout: float) -> None:
        """Let a running job finish (or cancel it after `timeout`), then close the job."""
        if self._task is not None and not self._task.done():
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout)
            except TimeoutError:
                self._task.cancel()
        close = getattr(self.job, "close", None)
        if close is not None:
            await close()


@dataclass(frozen=True)
class Runtime:
    """The background parts the jobs drive, kept in `application.bot_data["runtime"]`."""

    delivery: Delivery
    digests: DigestScheduler
    poll: OneAtATime | None
    schedule: Schedule
    moderators: frozenset[int]
    clock: Callable[[], datetime]


def bot_base_url(api_url: str) -> str:
    """PTB appends the token to its base_url: accept the API root with or without '/bot'."""
    url = api_url.rstrip("/")
    return url if url.endswith("/bot") else f"{url}/bot"


def build_application(
    settings: Settings,
    store: Store,
    *,
    poll: PollCycle | None = None,
    schedule: Schedule | None = None,
    delivery: DeliveryConfig | None = None,
    throttle: CommandThrottle | None = None,
    request_timeout: float = 10.0,
    clock: Callable[[], datetime] = utcnow,
) -> Application:
    if not settings.token:
        raise ValueError("a bot token is needed to build the Telegram application")
    schedule = schedule or Schedule()
    application = (
        Application.builder()
        .token(settings.token)
        .base_url(bot_base_url(settings.api_url))
        .rate_limiter(AIORateLimiter(max_retries=0))  # delivery honours RetryAfter itself
        .read_timeout(request_timeout)
        .write_timeout(request_timeout)
        .connect_timeout(request_timeout)
        .pool_timeout(request_timeout)
        .post_init(_on_start)
        .post_stop(_on_stop)
        .build()
    )
    tz = settings.tz
    moderation = Moderation(store, settings.models_dir, clock=clock)
    subscriptions = Subscriptions(
        store,
        BotConfig(
            tz=tz,
            timezone_name=settings.timezone,
            default_digest_time=settings.digest_time,
            moderators=settings.moderators,
        ),
        clock=clock,
    )
    add_handlers(
        application,
        Services(subscriptions, moderation, throttle or CommandThrottle(), tz, settings.timezone),
    )
    delivery_config = delivery or DeliveryConfig(tz=tz, moderators=settings.moderators)
    sender = TelegramSender(application.bot, Redactor([settings.token]))
    application.bot_data["runtime"] = Runtime(
        delivery=Delivery(
            store,
            sender,
            delivery_config,
            labels=moderation.story_label,
            clock=clock,
        ),
        digests=DigestScheduler(
            store,
            DigestConfig(
                default_time=settings.digest_time, tz=tz, skip_empty=settings.digest_skip_empty
            ),
        ),
        poll=OneAtATime("feed polling", poll) if poll is not None else None,
        schedule=schedule,
        moderators=settings.moderators,
        clock=clock,
    )
    return application


def runtime(application: Application) -> Runtime:
    return application.bot_data["runtime"]


async def _on_start(application: Application) -> None:
    parts = runtime(application)
    await parts.delivery.recover()
    try:
        await register_commands(application, parts.moderators)
    except Exception as error:  # the bot works without its command menu
        log.warning("setMyCommands failed: %s", error)
    jobs = application.job_queue
    jobs.run_repeating(_deliver, interval=parts.schedule.delivery_every, first=0.5, name="delivery")
    jobs.run_repeating(_digest, interval=parts.schedule.digest_every, first=1.0, name="digest")
    if parts.poll is not None:
        jobs.run_repeating(_poll, interval=parts.schedule.poll_every, first=0.1, name="poll")


async def _on_stop(application: Application) -> None:
    parts = runtime(application)
    if parts.poll is not None:
        await parts.poll.close(timeout=30)
    await parts.delivery.stop()


async def _deliver(context: ContextTypes.DEFAULT_TYPE) -> None:
    runtime(context.application).delivery.kick()


async def _digest(context: ContextTypes.DEFAULT_TYPE) -> None:
    parts = runtime(context.application)
    enqueued = await asyncio.to_thread(parts.digests.enqueue_due, parts.clock())
    if enqueued:
        log.info("daily digest enqueued for %d chats", enqueued)
        parts.delivery.kick()


async def _poll(context: ContextTypes.DEFAULT_TYPE) -> None:
    runtime(context.application).poll.kick()


def run(settings: Settings, *, out: TextIO | None = None) -> None:
    """`repostwatch run`: the bot with long polling, or console mode without a token; either
    way the feeds are polled on schedule. Returns on SIGINT/SIGTERM (Ctrl-C)."""
    feeds = load_feeds(settings.feeds_path)
    store = Store(settings.db_path)
    poll = PollJob(
        store,
        feeds,
        PollSettings(allow_private_links=settings.allow_private_links),
        hooks=lambda: RelevanceHooks(store, settings.models_dir),
    )
    try:
        if settings.token:
            application = build_application(settings, store, poll=poll)
            application.run_polling(allowed_updates=Update.ALL_TYPES)
        else:
            log.warning("no TELEGRAM_BOT_TOKEN: console mode, alerts are printed, not sent")
            asyncio.run(_console(settings, store, poll, out or sys.stdout))
    finally:
        store.close()


async def _console(settings: Settings, store: Store, poll: PollJob, out: TextIO) -> None:
    digest = DigestConfig(
        default_time=settings.digest_time, tz=settings.tz, skip_empty=settings.digest_skip_empty
    )
    try:
        await run_console(ConsoleAnnouncer(store, out, digest), poll)
    finally:
        await poll.close()
