"""feeds.yaml: the outlets to poll, validated before anything starts.

Every mistake becomes one `ConfigError` whose message names the file, the feed (by name, or
by position when it has no usable name) and the field, so a bad line is found at a glance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

LANGUAGES = ("ru", "en")
DEFAULT_INTERVAL = timedelta(minutes=15)
MIN_INTERVAL = timedelta(minutes=1)
FEED_KEYS = ("name", "url", "language", "interval")
TOP_KEYS = ("defaults", "feeds")
DEFAULT_KEYS = ("interval",)

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


class ConfigError(ValueError):
    """feeds.yaml is unusable; the message says where and why."""


@dataclass(frozen=True)
class FeedSpec:
    name: str
    url: str
    language: str
    interval: timedelta = DEFAULT_INTERVAL


def load_feeds(path: str | Path) -> list[FeedSpec]:
    """Read and validate a feeds file; raises ConfigError naming file, feed and field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the feeds file: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the feeds file is not UTF-8 text") from None
    return parse_feeds(text, source=str(path))


def parse_feeds(text: str, *, source: str = "feeds.yaml") -> list[FeedSpec]:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{source}: YAML syntax error{_yaml_place(error)}") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{source}: expected a mapping with a 'feeds' list at the top")
    _no_unknown_keys(document, TOP_KEYS, f"{source}: top level")
    default_interval = _defaults(document.get("defaults"), source)
    entries = document.get("feeds")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{source}: 'feeds' must be a non-empty list of feeds")
    feeds = [
        _feed(entry, position, source, default_interval)
        for position, entry in enumerate(entries, 1)
    ]
    _no_duplicate_names(feeds, source)
    return feeds


def parse_interval(value: object) -> timedelta:
    """'90s', '10m', '1h', '1h30m', '1d' -> timedelta; ValueError with the reason otherwise."""
    if not isinstance(value, str):
        raise ValueError(f"expected a duration like 10m or 1h, got {value!r}")
    match = _DURATION.match(value.strip().lower())
    if not value.strip() or not match:
        raise ValueError(f"expected a duration like 10m or 1h, got {value!r}")
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    interval = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if interval < MIN_INTERVAL:
        raise ValueError(f"must be at least 1m, got {value!r}")
    return interval


def _feed(entry: Any, position: int, source: str, default_interval: timedelta) -> FeedSpec:
    if not isinstance(entry, dict):
        raise ConfigError(
            f"{source}: feed #{position}: expected a mapping of fields, got {entry!r}"
        )
    raw_name = entry.get("name")
    where = f"{source}: feed #{position}" + (
        f" ({raw_name!r})" if isinstance(raw_name, str) and raw_name else ""
    )
    _no_unknown_keys(entry, FEED_KEYS, where)

    def fail(field: str, problem: str) -> ConfigError:
        return ConfigError(f"{where}, field '{field}': {problem}")

    for field in ("name", "url", "language"):
        if entry.get(field) in (None, ""):
            raise fail(field, "missing")
    name, url, language = entry["name"], entry["url"], entry["language"]
    if not isinstance(name, str) or not _NAME.match(name):
        raise fail("name", f"must be a slug of a-z, 0-9, '-' or '_', got {name!r}")
    if not isinstance(url, str) or not _is_web_url(url):
        raise fail("url", f"must be an http:// or https:// address with a host, got {url!r}")
    if language not in LANGUAGES:
        raise fail("language", f"must be one of {', '.join(LANGUAGES)}, got {language!r}")
    interval = default_interval
    if "interval" in entry:
        try:
            interval = parse_interval(entry["interval"])
        except ValueError as error:
            raise fail("interval", str(error)) from None
    return FeedSpec(name=name, url=url.strip(), language=language, interval=interval)


def _defaults(defaults: Any, source: str) -> timedelta:
    if defaults is None:
        return DEFAULT_INTERVAL
    if not isinstance(defaults, dict):
        raise ConfigError(f"{source}: 'defaults' must be a mapping, got {defaults!r}")
    _no_unknown_keys(defaults, DEFAULT_KEYS, f"{source}: defaults")
    if "interval" not in defaults:
        return DEFAULT_INTERVAL
    try:
        return parse_interval(defaults["interval"])
    except ValueError as error:
        raise ConfigError(f"{source}: defaults, field 'interval': {error}") from None


def _no_unknown_keys(mapping: dict, allowed: tuple[str, ...], where: str) -> None:
    for key in mapping:
        if key not in allowed:
            raise ConfigError(
                f"{where}, field {key!r}: unknown field (allowed: {', '.join(allowed)})"
            )


def _no_duplicate_names(feeds: list[FeedSpec], source: str) -> None:
    first_at: dict[str, int] = {}
    for position, feed in enumerate(feeds, 1):
        if feed.name in first_at:
            raise ConfigError(
                f"{source}: feed #{position} ({feed.name!r}), field 'name': duplicate of "
                f"feed #{first_at[feed.name]}"
            )
        first_at[feed.name] = position


def _is_web_url(url: str) -> bool:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _yaml_place(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or ""
    if mark is None:
        return f": {error}"
    return f" at line {mark.line + 1}, column {mark.column + 1}: {problem}"
