"""Delivery throughput: one alert broadcast to N subscribers through a rate-limited Bot API.

The fake Bot API (tests/fakebotapi.py) runs on loopback, enforces --limit messages/s overall
(429 with retry_after beyond it), injects a 429 into about --inject of the messages, and
answers each after --latency ms. The real delivery worker sends through python-telegram-bot
(ExtBot + AIORateLimiter) from the outbox of a fresh SQLite file. Printed: the achieved rate
(target >= 27 msg/s against 30), duplicates and lost messages (both must be 0), and the 429s.

    python -m bench.delivery [--subscribers 10000] [--limit 30] [--inject 0.001] [--latency 30]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

from bench.report import Figure, at_least, at_most
from bot.delivery import Delivery, DeliveryConfig
from bot.sender import TelegramSender
from storage import Store
from tests.fakebotapi import FakeBotAPI
from tests.storydata import made_story
from tests.storywriter import StoryWriter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--limit", type=float, default=30.0, help="messages/s the API allows")
    parser.add_argument("--inject", type=float, default=0.001, help="share of injected 429s")
    parser.add_argument("--latency", type=float, default=30.0, help="API answer time, ms")
    parser.add_argument("--rate", type=float, default=DeliveryConfig().rate, help="our pace")
    args = parser.parse_args()
    # With max_retries=0 it logs each RetryAfter as an error; delivery handles them itself.
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
    with tempfile.TemporaryDirectory(prefix="rw-delivery-") as folder:
        asyncio.run(broadcast(Path(folder), args))


async def broadcast(folder: Path, args: argparse.Namespace) -> Outcome:
    store = Store(folder / "bench.db")
    now = datetime.now(UTC)
    subscribe_all(store, args.subscribers, now - timedelta(hours=1))
    StoryWriter(store).put(made_story(1, sources=3), at=now)

    api = FakeBotAPI(
        rate_limit=args.limit, random_429=args.inject, latency=args.latency / 1000, seed=1
    ).start()
    bot = ExtBot(
        api.token,
        base_url=api.base_url,
        rate_limiter=AIORateLimiter(max_retries=0),
        request=HTTPXRequest(connection_pool_size=64),
    )
    config = DeliveryConfig(rate=args.rate)
    print(
        f"{args.subscribers} subscribers; API: {args.limit:g} msg/s, ~{args.inject:.2%} injected "
        f"429s, {args.latency:g} ms; delivery paced at {config.rate:g} msg/s"
    )
    try:
        async with bot:
            delivery = Delivery(store, TelegramSender(bot), config)
            started = time.monotonic()
            runs = 0
            while True:
                runs += 1
                report = await delivery.run_once()
                if not store.due_outbox(now=datetime.now(UTC) + timedelta(hours=1), limit=1):
                    break
            elapsed = time.monotonic() - started
    finally:
        api.stop()
    print_figures(api, store, args.subscribers, elapsed, runs, report)
    result = outcome(api, store, args.subscribers, elapsed)
    store.close()
    return result


def subscribe_all(store: Store, count: int, at: datetime) -> None:
    with store.transaction():
        for chat_id in range(1, count + 1):
            store.subscribe(100_000 + chat_id, user_id=100_000 + chat_id, ui_lang="ru", at=at)


@dataclass(frozen=True)
class Outcome:
    subscribers: int
    sent: int
    rate: float  # msg/s, first to last accepted message
    duplicates: int
    lost: int
    refused: int  # 429s
    injected: int
    over_limit: int
    early: int  # sent during a retry_after wait
    elapsed: float


def outcome(api: FakeBotAPI, store: Store, subscribers: int, elapsed: float) -> Outcome:
    """The figures print_figures shows, as values (for the runner)."""
    accepted = api.calls_to("sendMessage", ok=True)
    per_chat = Counter(message.chat_id for message in api.sent())
    statuses = store.outbox_counts()
    span = accepted[-1].at - accepted[0].at if len(accepted) > 1 else float("nan")
    return Outcome(
        subscribers=subscribers,
        sent=len(accepted),
        rate=(len(accepted) - 1) / span if len(accepted) > 1 else float("nan"),
        duplicates=sum(count - 1 for count in per_chat.values() if count > 1),
        lost=subscribers - len(per_chat) - statuses.get("uncertain", 0) - statuses.get("failed", 0),
        refused=len(api.calls_to("sendMessage", ok=False)),
        injected=api.injected_429s,
        over_limit=api.rate_429s,
        early=api.early_requests,
        elapsed=elapsed,
    )


RATE_FLOOR = 27.0  # msg/s against a Bot API allowing 30, DESIGN.md


def figures(subscribers: int = 10_000, *, quick: bool = False) -> list[Figure]:
    """Rate, duplicates and lost, for the runner (python -m bench)."""
    if quick:
        subscribers = 300
    args = argparse.Namespace(
        subscribers=subscribers, limit=30.0, inject=0.001, latency=30.0, rate=DeliveryConfig().rate
    )
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
    with tempfile.TemporaryDirectory(prefix="rw-delivery-") as folder:
        result = asyncio.run(broadcast(Path(folder), args))
    setup = (
        f"{subscribers:,} subscribers, fake Bot API allowing {args.limit:g} msg/s, "
        f"~{args.inject:.1%} injected 429s, {args.latency:g} ms answers"
    )
    return [
        at_least("delivery", "achieved delivery rate", result.rate, RATE_FLOOR, "msg/s", setup),
        at_most("delivery", "duplicate messages", result.duplicates, 0, "", "target: none"),
        at_most("delivery", "lost messages", result.lost, 0, "", "target: none"),
        at_most(
            "delivery",
            "messages sent while a 429's retry_after was running",
            result.early,
            0,
            "",
            f"429s received: {result.refused} ({result.injected} injected, "
            f"{result.over_limit} over the limit)",
        ),
    ]


def print_figures(
    api: FakeBotAPI, store: Store, subscribers: int, elapsed: float, runs: int, report
) -> None:
    accepted = api.calls_to("sendMessage", ok=True)
    per_chat = Counter(message.chat_id for message in api.sent())
    duplicates = sum(count - 1 for count in per_chat.values() if count > 1)
    statuses = store.outbox_counts()
    lost = subscribers - len(per_chat) - statuses.get("uncertain", 0) - statuses.get("failed", 0)
    span = accepted[-1].at - accepted[0].at if len(accepted) > 1 else float("nan")
    rate = (len(accepted) - 1) / span if len(accepted) > 1 else float("nan")
    refused = len(api.calls_to("sendMessage", ok=False))
    print(f"sent {len(accepted)} messages in {elapsed:.1f} s ({runs} delivery runs)")
    print(f"achieved rate: {rate:.2f} msg/s (first to last accepted message; target >= 27)")
    print(f"duplicates: {duplicates}")
    print(f"lost: {lost}")
    print(
        f"429s: {refused} ({api.injected_429s} injected, {api.rate_429s} over the limit, "
        f"{api.early_requests} sent during a retry_after wait)"
    )
    print(f"outbox: {dict(sorted(statuses.items()))}")


if __name__ == "__main__":
    main()
