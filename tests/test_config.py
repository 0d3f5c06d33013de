from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from poller.config import ConfigError, load_feeds, parse_feeds, parse_interval

ROOT = Path(__file__).parent.parent


def test_the_shipped_feeds_file_lists_the_outlets() -> None:
    feeds = load_feeds(ROOT / "feeds.yaml")
    names = {feed.name for feed in feeds}
    assert len(feeds) >= 14 and len(names) == len(feeds)
    for outlet in ("meduza", "tass", "moscowtimes", "ovdinfo", "novaya-europe"):
        assert {f"{outlet}-ru", f"{outlet}-en"} <= names
    assert {"mediazona", "svoboda", "bbc-russian", "dw-russian"} <= names
    assert all(feed.url.startswith("https://") for feed in feeds)
    assert {feed.language for feed in feeds} == {"ru", "en"}


def test_intervals_default_and_override() -> None:
    feeds = parse_feeds(
        """
defaults: {interval: 20m}
feeds:
  - {name: a, url: "https://a.example/rss", language: ru}
  - {name: b, url: "https://b.example/rss", language: en, interval: 1h30m}
"""
    )
    assert [feed.interval for feed in feeds] == [timedelta(minutes=20), timedelta(minutes=90)]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("90s", timedelta(seconds=90)), ("10m", timedelta(minutes=10)), ("1d", timedelta(days=1))],
)
def test_parse_interval(value: str, expected: timedelta) -> None:
    assert parse_interval(value) == expected


GOOD = '{name: meduza-ru, url: "https://meduza.io/rss/all", language: ru}'


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            '{name: meduza-ru, url: "https://meduza.io/rss/all", language: ru, colour: red}',
            "feed #2 ('meduza-ru'), field 'colour': unknown field",
        ),
        ("{name: tass-ru, language: ru}", "feed #2 ('tass-ru'), field 'url': missing"),
        (
            '{name: tass-ru, url: "ftp://tass.ru/rss", language: ru}',
            "feed #2 ('tass-ru'), field 'url': must be an http:// or https://",
        ),
        (
            '{name: tass-ru, url: "https://tass.ru/rss", language: de}',
            "feed #2 ('tass-ru'), field 'language': must be one of ru, en",
        ),
        (
            '{name: tass-ru, url: "https://tass.ru/rss", language: ru, interval: 10 minutes}',
            "feed #2 ('tass-ru'), field 'interval': expected a duration like 10m",
        ),
        (
            '{name: tass-ru, url: "https://tass.ru/rss", language: ru, interval: 5s}',
            "feed #2 ('tass-ru'), field 'interval': must be at least 1m",
        ),
        (GOOD, "feed #2 ('meduza-ru'), field 'name': duplicate of feed #1"),
        ('{url: "https://tass.ru/rss", language: ru}', "feed #2, field 'name': missing"),
    ],
)
def test_a_bad_feed_is_named_with_its_field(tmp_path: Path, entry: str, expected: str) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(f"feeds:\n  - {GOOD}\n  - {entry}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_feeds(path)
    assert str(caught.value) == f"{path}: " + str(caught.value).split(": ", 1)[1]
    assert expected in str(caught.value)


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(f"feeds:\n  - {GOOD}\n  - {{name: x, url: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"feeds\.yaml: YAML syntax error at line \d+"):
        load_feeds(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- just a list", "expected a mapping with a 'feeds' list"),
        ("feeds: []", "'feeds' must be a non-empty list"),
        (f"feeds: [{GOOD}]\nextra: 1", "top level, field 'extra': unknown field"),
        ("feeds: [just-a-name]", "feed #1: expected a mapping of fields"),
    ],
)
def test_bad_file_shapes(text: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        parse_feeds(text)


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the feeds file"):
        load_feeds(tmp_path / "nope.yaml")
