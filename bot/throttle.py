"""A per-user command budget, so one user flooding commands cannot make the bot flood Telegram."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    at: float
    warned: bool = False


class CommandThrottle:
    """A token bucket per user: `burst` commands at once, then one every `every` seconds.

    `check` answers "ok", "warn" (the first refusal: tell the user once) or "drop".
    """

    def __init__(
        self,
        burst: int = 10,
        every: float = 2.0,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        max_users: int = 10_000,
    ) -> None:
        self.burst = burst
        self.every = every
        self.monotonic = monotonic
        self.max_users = max_users
        self._buckets: dict[int, _Bucket] = {}

    def check(self, user_id: int) -> str:
        now = self.monotonic()
        bucket = self._buckets.get(user_id)
        if bucket is None:
            self._forget_idle(now)
            bucket = self._buckets[user_id] = _Bucket(float(self.burst), now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) / self.every)
        bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            bucket.warned = False
            return "ok"
        if bucket.warned:
            return "drop"
        bucket.warned = True
        return "warn"

    def _forget_idle(self, now: float) -> None:
        """Users whose bucket has refilled are no different from new ones: drop them."""
        if len(self._buckets) < self.max_users:
            return
        full = self.burst * self.every
        self._buckets = {
            user: bucket for user, bucket in self._buckets.items() if now - bucket.at < full
        }
