from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.cli_stories import parse_duration
from poller.stories import StoryMatcher
from storage import NewArticle, Store


def add(store: Store, matcher: StoryMatcher, *, hours_ago: float, relevant: bool, **fields):
    when = datetime.now(UTC) - timedelta(hours=hours_ago)
    article = store.add_article(
        NewArticle(source="page", published=when, **fields), fetched_at=when
    )
    return matcher.assign(article, relevant=relevant)


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "repostwatch.db"
    store = Store(path)
    matcher = StoryMatcher(store)
    add(store, matcher, hours_ago=3, relevant=True, url="https://tass.ru/proisshestviya/1",
        feed="tass-ru", lang="ru",
        title="Суд в Томске арестовал журналиста на 10 суток за старые посты",
        text="Советский районный суд Томска арестовал на 10 суток журналиста Виталия "
             "Серебрякова по ст. 20.3 КоАП. Поводом стали посты 2020 года.")  # fmt: skip
    add(store, matcher, hours_ago=2, relevant=True, url="https://www.sibreal.org/a/1.html",
        feed="sibreal-en", lang="en", title="Tomsk journalist jailed for 10 days",
        text="A court in Tomsk has jailed journalist Vitaly Serebryakov for 10 days over "
             "posts from 2020.")  # fmt: skip
    add(store, matcher, hours_ago=1, relevant=False, url="https://tass.ru/sport/2",
        feed="tass-ru", lang="ru", title="Хоккеисты Томска выиграли дома",
        text="Томские хоккеисты обыграли гостей со счетом 3:1 в домашнем матче.")  # fmt: skip
    add(store, matcher, hours_ago=80, relevant=True, url="https://tass.ru/old/3",
        feed="tass-ru", lang="ru", title="Старое дело о репосте",
        text="Суд в Омске оштрафовал пенсионера Петра Лаврова за репост.")  # fmt: skip
    store.close()
    return path


def test_stories_lists_recent_relevant_stories_with_sources_and_summaries(database: Path) -> None:
    result = CliRunner().invoke(cli, ["stories", "--db", str(database)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("1 relevant story updated in the last 24h")
    assert "Суд в Томске арестовал журналиста на 10 суток за старые посты" in result.output
    assert "2 sources: ru, en" in result.output
    assert "- tass-ru (ru) https://tass.ru/proisshestviya/1" in result.output
    assert "- sibreal-en (en) https://www.sibreal.org/a/1.html" in result.output
    assert "ru: Советский районный суд Томска арестовал на 10 суток" in result.output
    assert "en: A court in Tomsk has jailed journalist Vitaly Serebryakov" in result.output
    assert "Хоккеисты" not in result.output and "Старое дело" not in result.output


def test_all_and_since_widen_the_list(database: Path) -> None:
    result = CliRunner().invoke(cli, ["stories", "--db", str(database), "--all", "--since", "4d"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("3 stories updated in the last 4d\n")
    assert "Хоккеисты Томска выиграли дома" in result.output and "not relevant" in result.output
    assert "Старое дело о репосте" in result.output


def test_the_default_database_comes_from_the_settings(database: Path) -> None:
    env = {"REPOSTWATCH_DATA": str(database.parent)}
    result = CliRunner().invoke(cli, ["stories"], env=env)
    assert result.exit_code == 0, result.output
    assert "Vitaly Serebryakov" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday"], "expected a number and a unit"),
        (["--since", "0h"], "expected a number and a unit"),
        (["--db", "/nonexistent/rw.db"], "no database at /nonexistent/rw.db"),
    ],
)
def test_bad_arguments_get_a_clear_error(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["stories", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_help_shows_an_example() -> None:
    result = CliRunner().invoke(cli, ["stories", "--help"])
    assert result.exit_code == 0
    assert "repostwatch stories --since 48h" in result.output


@pytest.mark.parametrize(
    ("text", "expected"),
    [("90m", timedelta(minutes=90)), ("24h", timedelta(hours=24)), ("7d", timedelta(days=7)),
     (" 2W ", timedelta(weeks=2))],
)  # fmt: skip
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected
