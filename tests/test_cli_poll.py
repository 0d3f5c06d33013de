from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from bot.cli import cli
from storage import Store
from tests.test_pipeline import serve_fixtures


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), env=env or {}, catch_exceptions=False)


def write_feeds(path: Path, base: str) -> Path:
    path.write_text(
        "feeds:\n"
        f'  - {{name: meduza-ru, url: "{base}/feeds/meduza-ru.xml", language: ru}}\n'
        f'  - {{name: broken, url: "{base}/feeds/broken.xml", language: ru, interval: 1h}}\n',
        encoding="utf-8",
    )
    return path


def test_poll_once_then_feeds(httpserver: HTTPServer, tmp_path: Path) -> None:
    base = serve_fixtures(httpserver)
    feeds = write_feeds(tmp_path / "feeds.yaml", base)
    db = tmp_path / "rw.db"
    env = {"REPOSTWATCH_ALLOW_PRIVATE_LINKS": "1"}

    first = run("poll", "--once", "--feeds", str(feeds), "--db", str(db), env=env)
    assert first.exit_code == 0, first.output
    assert "meduza-ru: ok, 3 entries, 3 new, 3 pages, 0 from feed text" in first.output
    assert "broken: error: not a feed" in first.output
    assert "2 feeds polled" in first.output and "3 new articles" in first.output

    second = run("poll", "--once", "--feeds", str(feeds), "--db", str(db), env=env)
    assert "meduza-ru: not modified" in second.output and "0 new articles" in second.output

    listing = run("feeds", "--db", str(db))
    assert listing.exit_code == 0
    lines = {line.split()[0]: line for line in listing.output.splitlines()[2:]}
    assert re.search(r"not-modified\s+3\s+3\s+0", lines["meduza-ru"])
    assert re.search(r"error\s+0\s+0\s+2\s+not a feed", lines["broken"])
    store = Store(db)
    assert store.count_articles() == 3
    store.close()


def test_feeds_on_an_empty_database(tmp_path: Path) -> None:
    result = run("feeds", "--db", str(tmp_path / "new.db"))
    assert result.exit_code == 0 and "No feeds polled yet" in result.output


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "{name: tass-ru, url: https://tass.ru/rss/v2.xml, language: ru, every: 5m}",
            "feed #1 ('tass-ru'), field 'every': unknown field",
        ),
        ("{name: tass-ru, language: ru}", "feed #1 ('tass-ru'), field 'url': missing"),
        (
            "{name: tass-ru, url: https://tass.ru/rss/v2.xml, language: ru, interval: soon}",
            "feed #1 ('tass-ru'), field 'interval': expected a duration",
        ),
    ],
)
def test_a_bad_feeds_file_exits_2_and_starts_nothing(
    tmp_path: Path, entry: str, message: str
) -> None:
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(f"feeds:\n  - {entry}\n", encoding="utf-8")
    db = tmp_path / "rw.db"
    result = run("poll", "--once", "--feeds", str(feeds), "--db", str(db))
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {feeds}: {message}")
    assert not db.exists()  # nothing started


def test_demo_polls_the_bundled_fixtures() -> None:
    result = run("demo")
    assert result.exit_code == 0, result.output
    output = result.output
    assert re.search(r"meduza-ru\s+ok\s+3\s+3\s+3\s+0", output)
    assert re.search(r"broken-outlet\s+error.*not a feed", output)
    assert re.search(r"tomsk-vesti\s+ru\s+page\s+Томская учительница получила штраф", output)
    assert re.search(r"ovdinfo-en\s+en\s+feed\s+Ildar Safin sentenced", output)
    assert "10 feeds polled" in output and "21 new articles" in output


@pytest.mark.parametrize("command", ["poll", "feeds", "demo"])
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0 and "Example:" in result.output
    assert f"repostwatch {command}" in result.output
