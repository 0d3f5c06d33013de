"""`repostwatch extract` on saved pages: one JSON line per page, failures on stderr."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from bot.cli import cli

PAGES = Path(__file__).parent / "fixtures" / "pages"


def run(*args: str) -> tuple[int, list[dict], str]:
    result = CliRunner().invoke(cli, ["extract", *args], env={"REPOSTWATCH_DATA": "unused"})
    records = [json.loads(line) for line in result.stdout.splitlines()]
    return result.exit_code, records, result.stderr


def test_one_json_object_per_page() -> None:
    files = [
        str(PAGES / "meduza-ru.html"),
        str(PAGES / "tass-en.html"),
        str(PAGES / "bryansk-cp1251.html"),
    ]
    code, records, stderr = run(*files)
    assert code == 0, stderr
    assert [record["file"] for record in records] == files
    assert set(records[0]) == {"file", "title", "text", "lang", "published"}
    assert [record["lang"] for record in records] == ["ru", "en", "ru"]
    assert records[0]["published"] == "2024-03-12T14:37:00+03:00"
    assert records[1]["title"] == "Russian wheat export prices rise for third straight week"
    assert records[2]["text"].startswith("Советский районный суд Брянска")
    assert "Поддержите" not in records[0]["text"]


def test_unreadable_and_empty_pages_are_reported_and_the_rest_still_processed(
    tmp_path: Path,
) -> None:
    good = tmp_path / "good.html"
    shutil.copy(PAGES / "ovdinfo-en.html", good)
    code, records, stderr = run(
        str(tmp_path / "missing.html"), str(PAGES / "too-short.html"), str(tmp_path), str(good)
    )
    assert code == 1
    assert [record["file"] for record in records] == [str(good)]
    assert f"{tmp_path / 'missing.html'}: cannot read" in stderr
    assert f"{PAGES / 'too-short.html'}: no article text found" in stderr
    assert f"{tmp_path}: cannot read" in stderr


def test_url_option_and_lang_prior(tmp_path: Path) -> None:
    page = tmp_path / "short.html"
    page.write_text(
        "<html><body><article><p>"
        + "Суд оштрафовал жителя Перми за комментарий во «ВКонтакте» под постом губернатора. " * 4
        + "</p></article></body></html>",
        "utf-8",
    )
    code, records, _ = run(str(page), "--url", "https://example.org/news/1", "--lang", "ru")
    assert code == 0
    assert records[0]["lang"] == "ru"
    assert records[0]["published"] is None


def test_help_has_an_example() -> None:
    result = CliRunner().invoke(cli, ["extract", "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output
    assert "repostwatch extract" in result.output
