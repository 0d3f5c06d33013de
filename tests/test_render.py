"""Rendering: escaped HTML that Telegram accepts, never over its length limit."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from bot.render import (
    MAX_LENGTH,
    Reader,
    render_alert,
    render_digest,
    telegram_length,
    to_console,
)
from bot.texts import TEXTS, stories_word, ui_language
from tests.storydata import fixture_stories, made_story
from tests.telegram_html import check

MOSCOW = ZoneInfo("Europe/Moscow")


@pytest.fixture
def stories():
    return {story.id: story for story in fixture_stories()}


def test_an_alert_links_the_headline_and_lists_every_source(stories) -> None:
    rendered = render_alert(stories[1], Reader(ui_lang="ru", tz=MOSCOW))
    plain, links = check(rendered.text)
    assert links[0] == (stories[1].title, stories[1].url)
    assert "kazan-vesti · RU · 20.11.2026, 13:02" in plain  # published time, in Moscow
    assert "Вахитовский районный суд" in plain
    assert "Источники (3):" in plain
    assert [url for _, url in links[1:]] == [source.url for source in stories[1].sources]
    assert rendered.sources == 3 and rendered.buttons == ()


def test_an_english_reader_sees_the_english_report_of_a_russian_story(stories) -> None:
    rendered = render_alert(stories[1], Reader(ui_lang="en", story_langs="en"))
    plain, links = check(rendered.text)
    assert links[0] == (
        "Kazan pensioner fined over an eight-year-old repost",
        "https://rights-wire.example/russia/kazan-pensioner-fined",
    )
    assert "eight years earlier" in plain  # the English summary
    assert "Sources (3):" in plain
    assert "20 Nov 2026, 13:05" in plain


def test_hostile_titles_and_addresses_are_escaped_not_interpreted(stories) -> None:
    story = stories[3]
    for reader in (Reader(ui_lang="ru"), Reader(ui_lang="en", moderator=True)):
        rendered = render_alert(story, reader)
        plain, links = check(rendered.text)  # raises on any tag or entity Telegram refuses
        assert story.title in plain  # shown literally, every character
        assert "<script>" not in rendered.text and "<img" not in rendered.text
        assert "&lt;script&gt;" in rendered.text and "&amp;amp;" in rendered.text
        assert "odd<outlet>&co" in plain
        hrefs = [url for _, url in links]
        assert "https://odd-outlet.example/news?id=5&ref=%22quoted%22%3Ctag%3E" in hrefs
        assert not any(url.startswith("javascript:") for url in hrefs)
        assert "trap-feed" in plain  # the source is listed, just not linked


def test_a_huge_story_is_shortened_to_fit_without_breaking_markup() -> None:
    story = made_story(5, sources=250, summary_words=2000)
    story = replace(story, title="«Заголовок» & <b>" * 40)
    rendered = render_alert(story, Reader(ui_lang="ru", moderator=True), label=True)
    assert telegram_length(rendered.text) <= MAX_LENGTH
    plain, _ = check(rendered.text)
    assert "Источники (250):" in plain
    assert "…и ещё" in plain
    assert "публикация0 публикация1" in plain  # a summary survives, shortened
    assert "Отметка: по теме" in plain


def test_emoji_count_double_towards_the_limit() -> None:
    story = made_story(6, sources=1, summary_words=10)
    story = replace(story, summaries={"ru": "🔥" * 3000})
    rendered = render_alert(story, Reader(ui_lang="ru"))
    assert telegram_length(rendered.text) <= MAX_LENGTH
    assert len(rendered.text) < 2100  # 2 UTF-16 units per emoji


def test_moderators_get_buttons_that_show_the_current_label(stories) -> None:
    unlabelled = render_alert(stories[2], Reader(ui_lang="en", moderator=True))
    (row,) = unlabelled.buttons
    assert [button.data for button in row] == ["label:s:2:1", "label:s:2:0"]
    assert [button.text for button in row] == ["✅ Relevant", "❌ Not relevant"]

    labelled = render_alert(
        stories[2], Reader(ui_lang="en", moderator=True), label=False, labelled_by="Anna"
    )
    assert [button.text for button in labelled.buttons[0]] == ["✅ Relevant", "• ❌ Not relevant •"]
    assert "Label: not relevant (Anna)" in check(labelled.text)[0]


def test_a_digest_groups_and_counts_by_language(stories) -> None:
    (message,) = render_digest(list(stories.values()), Reader(ui_lang="en"), day=date(2026, 11, 21))
    plain, _ = check(message)
    assert plain.startswith("Digest for 21 Nov 2026\n3 stories in the last 24 hours")
    assert plain.index("In English (1)") < plain.index("In Russian (2)")
    assert "kazan-vesti +2" in plain  # two more outlets reported it


def test_a_digest_keeps_to_the_readers_languages(stories) -> None:
    (message,) = render_digest(
        list(stories.values()), Reader(ui_lang="ru", story_langs="en"), day=date(2026, 11, 21)
    )
    plain, _ = check(message)
    assert "2 истории за последние 24 часа" in plain
    assert "Kazan pensioner fined" in plain  # the Russian story, through its English report
    assert "<script>" not in message


def test_a_long_digest_is_split_between_stories() -> None:
    many = [made_story(n, lang="ru" if n % 3 else "en", sources=1 + n % 4) for n in range(1, 121)]
    parts = render_digest(many, Reader(ui_lang="ru"), day=date(2026, 11, 21))
    assert len(parts) >= 3
    seen = []
    for number, part in enumerate(parts, start=1):
        assert telegram_length(part) <= MAX_LENGTH
        assert part.startswith(f"({number}/{len(parts)}) ")
        _, links = check(part)
        seen += [url for _, url in links]
    assert sorted(seen) == sorted(story.url for story in many)  # each story once, none cut
    assert "(продолжение)" in "".join(parts)


def test_an_empty_day_says_so_briefly() -> None:
    (message,) = render_digest([], Reader(ui_lang="ru"), day=date(2026, 11, 21))
    assert check(message)[0] == "Дайджест за 21.11.2026\nЗа последние 24 часа новых историй нет."


def test_console_text_keeps_links_readable(stories) -> None:
    rendered = render_alert(stories[2], Reader(ui_lang="en"))
    console = to_console(rendered.text)
    assert console.startswith(
        "Tomsk teacher faces criminal case over comments under a news post "
        "<https://north-ledger.example/2026/11/20/tomsk-teacher-comments>"
    )
    assert "<b>" not in console


def test_texts_exist_in_both_languages_and_follow_telegram_language() -> None:
    assert set(TEXTS["ru"]) >= set(TEXTS["en"]) - {"story_few"}
    assert set(TEXTS["en"]) >= set(TEXTS["ru"]) - {"story_few"}
    assert (ui_language("ru"), ui_language("ru-RU"), ui_language("de"), ui_language(None)) == (
        "ru",
        "ru",
        "en",
        "en",
    )
    assert [stories_word("ru", n) for n in (1, 2, 5, 11, 21, 22)] == [
        "история",
        "истории",
        "историй",
        "историй",
        "история",
        "истории",
    ]
