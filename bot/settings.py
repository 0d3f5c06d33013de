"""Configuration, read once at the entry point and passed down as one frozen object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_API_URL = "https://api.telegram.org/bot"


class SettingsError(ValueError):
    """A bad environment value; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    feeds_path: Path = Path("feeds.yaml")
    token: str | None = field(default=None, repr=False)
    api_url: str = DEFAULT_API_URL
    moderators: frozenset[int] = frozenset()
    digest_time: time = time(9, 0)
    timezone: str = "Europe/Moscow"
    allow_private_links: bool = False
    digest_skip_empty: bool = False  # a day without stories: no digest rather than "nothing new"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "repostwatch.db"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            data_dir=Path(env.get("REPOSTWATCH_DATA", "data")),
            feeds_path=Path(env.get("REPOSTWATCH_FEEDS", "feeds.yaml")),
            token=env.get("TELEGRAM_BOT_TOKEN") or None,
            api_url=env.get("TELEGRAM_API_URL") or DEFAULT_API_URL,
            moderators=_moderators(env.get("REPOSTWATCH_MODERATORS", "")),
            digest_time=_clock(env.get("REPOSTWATCH_DIGEST_TIME", "09:00")),
            timezone=_zone(env.get("REPOSTWATCH_TZ", "Europe/Moscow")),
            allow_private_links=env.get("REPOSTWATCH_ALLOW_PRIVATE_LINKS", "") in {"1", "true"},
            digest_skip_empty=env.get("REPOSTWATCH_DIGEST_SKIP_EMPTY", "") in {"1", "true"},
        )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _moderators(value: str) -> frozenset[int]:
    try:
        return frozenset(int(part) for part in value.replace(",", " ").split())
    except ValueError:
        raise SettingsError(
            f"REPOSTWATCH_MODERATORS must be Telegram user ids separated by commas, got {value!r}"
        ) from None


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ValueError, ZoneInfoNotFoundError):
        raise SettingsError(
            f"REPOSTWATCH_TZ must be an IANA time zone such as Europe/Moscow, got {value!r}"
        ) from None
    return value


def _clock(value: str) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise SettingsError(f"REPOSTWATCH_DIGEST_TIME must be HH:MM, got {value!r}") from None
