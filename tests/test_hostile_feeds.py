"""Hostile feed bodies, each polled beside a good feed (see tests/hostile.py).

Each case: the other feed is unaffected, the outlet's error or problem is recorded with a
clear message and shown by `repostwatch feeds`, and nothing already stored is lost.
"""

from __future__ import annotations

import random
import tracemalloc
from dataclasses import replace

import pytest
from werkzeug import Request, Response

from poller.parse import parse_feed
from storage import Store
from tests.hostile import (
    HOSTILE,
    OPEN,
    OUTLET,
    Web,
    assert_feed_error,
    assert_survived,
    feeds_row,
    fixture,
    poll_before_and_after,
)


def garbage(request: Request) -> Response:
    return Response(random.Random(6).randbytes(4096), content_type="application/rss+xml")


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("html-homepage", "not a feed: the server sent an HTML page"),
        ("empty", "not a feed: the response body is empty"),
        ("whitespace", "not a feed: the response body is empty"),
        ("garbage", "not a feed: "),
        ("json", "not a feed: not well-formed XML at line "),
    ],
)
async def test_a_body_that_is_not_a_feed_is_an_error(
    web: Web, store: Store, case: str, message: str
) -> None:
    responses = {
        "html-homepage": web.serve("html-homepage.html"),
        "empty": lambda request: Response(b"", content_type="application/rss+xml"),
        "whitespace": lambda request: Response(b"\r\n  \n", content_type="text/xml"),
        "garbage": garbage,
        "json": lambda request: Response(b'{"items": []}', content_type="application/json"),
    }
    outcome = await poll_before_and_after(web, store, responses[case])
    assert_feed_error(outcome, store, message)
    assert_survived(web, outcome, store)
    assert message in feeds_row(store.path)


async def test_malformed_xml_keeps_the_entries_it_can_and_reports_the_fault(
    web: Web, store: Store
) -> None:
    outcome = await poll_before_and_after(web, store, web.serve("malformed.xml"))
    outlet = outcome.outlet
    assert outlet.status == "ok" and outlet.entries == 2 and outlet.new_articles == 2
    assert outlet.warning == (
        "not well-formed XML at line 6, column 18: not well-formed (invalid token)"
    )
    titles = sorted(article.title for article in outcome.new_articles(store))
    assert titles == [
        "Курганского студента оштрафовали за мем <с котом>",
        "Ледоход на Тоболе начался раньше срока",
    ]
    state = store.feed_state(OUTLET)
    assert state.problems_last >= 1 and state.last_problem == outlet.warning
    assert "not well-formed XML at line 6" in feeds_row(store.path)
    assert_survived(web, outcome, store)


async def test_a_truncated_feed_keeps_the_entry_it_has(web: Web, store: Store) -> None:
    outcome = await poll_before_and_after(web, store, web.serve("truncated.xml"))
    outlet = outcome.outlet
    assert outlet.status == "ok" and outlet.new_articles == 1
    assert outlet.warning.endswith("no element found")
    (article,) = outcome.new_articles(store)
    assert article.url.endswith("/news/saransk-comment")
    assert "no element found" in feeds_row(store.path)
    assert_survived(web, outcome, store)


def test_billion_laughs_is_not_expanded() -> None:
    body = fixture("billion-laughs.xml", "http://127.0.0.1:8080")
    tracemalloc.start()
    try:
        parsed = parse_feed(body, content_type="application/rss+xml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Expanded, one &lol9; is 3 GB of "lol"; the parse stays within a few MB.
    assert peak < 8 * 1024 * 1024, peak
    (entry,) = parsed.entries
    assert "lollol" not in entry.title + entry.summary + parsed.title
    assert len(entry.title) < 20 and "undefined entity" in parsed.warning


async def test_billion_laughs_beside_a_good_feed(web: Web, store: Store) -> None:
    outcome = await poll_before_and_after(web, store, web.serve("billion-laughs.xml"))
    assert outcome.outlet.status == "ok" and "undefined entity" in outcome.outlet.warning
    (article,) = outcome.new_articles(store)
    assert "lollol" not in article.title + article.text and len(article.title) < 20
    assert "undefined entity" in feeds_row(store.path)
    assert_survived(web, outcome, store)


async def test_external_entities_are_neither_read_nor_fetched(web: Web, store: Store) -> None:
    web.server.expect_request("/xxe-probe").respond_with_data("SECRET-FROM-PROBE")
    web.server.expect_request("/xxe-dtd").respond_with_data('<!ENTITY leak "SECRET-FROM-DTD">')
    outcome = await poll_before_and_after(web, store, web.serve("xxe.xml"))
    assert outcome.outlet.status == "ok"
    (article,) = outcome.new_articles(store)
    stored = article.title + article.text
    assert "root:" not in stored and "SECRET" not in stored
    assert web.requests_to("/xxe-probe") == [] and web.requests_to("/xxe-dtd") == []
    assert_survived(web, outcome, store)


CHARSET_CASES = [
    ("cp1251-labelled-utf8.xml", "application/rss+xml"),
    ("cp1251-labelled-utf8.xml", "application/rss+xml; charset=utf-8"),
    ("cp1251-undeclared.xml", "application/rss+xml"),
    ("cp1251-undeclared.xml", "text/xml"),
    ("utf8-labelled-cp1251.xml", "application/rss+xml"),
    ("utf8-labelled-cp1251.xml", "text/xml; charset=windows-1251"),
    ("utf8-labelled-cp1251.xml", "application/rss+xml; charset=klingon"),
]


@pytest.mark.parametrize(("name", "content_type"), CHARSET_CASES)
async def test_wrong_or_missing_charset_still_gives_the_right_text(
    web: Web, store: Store, name: str, content_type: str
) -> None:
    outcome = await poll_before_and_after(web, store, web.serve(name, content_type))
    assert outcome.outlet.status == "ok" and outcome.outlet.new_articles == 2
    titles = sorted(article.title for article in outcome.new_articles(store))
    assert titles == [
        "Ёлку на главной площади установят к двадцатому декабря",
        "Суд в Пензе оштрафовал учительницу за репост песни",
    ]
    texts = [article.text for article in outcome.new_articles(store)]
    assert any("по статье о «дискредитации»" in text for text in texts)
    assert_survived(web, outcome, store)


async def test_invalid_dates_leave_the_date_empty_and_keep_the_article(
    web: Web, store: Store
) -> None:
    outcome = await poll_before_and_after(web, store, web.serve("bad-dates.xml"))
    assert outcome.outlet.status == "ok" and outcome.outlet.new_articles == 5
    published = {
        article.url.rsplit("/", 1)[1]: article.published for article in outcome.new_articles(store)
    }
    assert [published[f"dates-{n}"] for n in (1, 2, 3, 4)] == [None] * 4
    assert published["dates-5"].isoformat() == "2026-11-20T07:00:00+00:00"
    assert_survived(web, outcome, store)


async def test_duplicate_guids_do_not_merge_different_stories(web: Web, store: Store) -> None:
    outcome = await poll_before_and_after(web, store, web.serve("duplicate-guids.xml"))
    outlet = outcome.outlet
    assert (outlet.status, outlet.entries, outlet.new_articles) == ("ok", 4, 3)
    urls = sorted(article.url.rsplit("/", 1)[1] for article in outcome.new_articles(store))
    assert urls == ["guid-1", "guid-2", "guid-3"]
    assert_survived(web, outcome, store)
    again = await web.poll(store, web.feeds, OPEN)
    assert again.new_articles == 0  # polling the same feed again stores nothing twice


async def test_markup_in_titles_and_summaries_is_stored_as_plain_text(
    web: Web, store: Store
) -> None:
    outcome = await poll_before_and_after(web, store, web.serve("markup.xml"))
    outlet = outcome.outlet
    assert (outlet.status, outlet.entries, outlet.new_articles) == ("ok", 4, 3)
    assert outlet.errors == ("entry without a usable link skipped: 'Ссылка-скрипт'",)
    by_slug = {article.url.rsplit("/", 1)[1]: article for article in outcome.new_articles(store)}
    first, second, third = (by_slug[f"markup-{n}"] for n in (1, 2, 3))
    assert first.title == "Суд в Сызрани оштрафовал блогера"
    assert second.title == "Telegram спойлер жирный & курсив"
    # MarkdownV2 is just text to us: kept as written, escaped when rendered.
    assert third.title.startswith("*Срочно*: _суд_ над [админом](http://evil.example/)")
    for article in (first, second, third):
        for needle in ("<", "script", "alert", "onerror", "iframe", "javascript:", "display:"):
            assert needle not in article.title + article.text, (needle, article)
    assert "entry without a usable link" in feeds_row(store.path)
    assert_survived(web, outcome, store)


async def test_emoji_and_right_to_left_text_come_through_intact(web: Web, store: Store) -> None:
    outcome = await poll_before_and_after(web, store, web.serve("emoji-rtl.xml"))
    assert outcome.outlet.status == "ok" and outcome.outlet.new_articles == 4
    by_slug = {article.url.rsplit("/", 1)[1]: article for article in outcome.new_articles(store)}
    assert by_slug["emoji-1"].title == (
        "🚨 Суд 👩🏽\u200d⚖️ оштрафовал блогера 👨\u200d👩\u200d👧 за флаг 🇺🇦 в сторис"
    )
    assert by_slug["rtl-1"].title.startswith("محكمة روسية تغرم مدونا")
    assert "בית משפט רוסי" in by_slug["rtl-1"].title
    assert by_slug["rtl-2"].title == "Файл \u202efdp.exe\u202c и текст"
    # Surrogate pairs written as two references become the emoji; a lone one becomes U+FFFD.
    assert by_slug["surrogates"].title == "Смайлик 😀 в заголовке и одинокий \ufffd суррогат"
    assert by_slug["surrogates"].text == "Эмодзи 😡 записан парой ссылок."
    assert_survived(web, outcome, store)


async def test_a_one_megabyte_article_is_stored_whole(web: Web, store: Store) -> None:
    page = long_read(1024 * 1024)
    web.server.expect_request("/long-read").respond_with_data(
        page, content_type="text/html; charset=utf-8"
    )
    feed = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        f"<item><title>Лонгрид</title><link>{web.base}/long-read</link>"
        "<description>Коротко.</description></item></channel></rss>"
    ).encode()
    limits = replace(OPEN.limits, max_bytes=2 * 1024 * 1024, total_timeout=20)
    settings = replace(OPEN, limits=limits)
    outcome = await poll_before_and_after(
        web, store, lambda request: Response(feed, content_type="application/rss+xml"), settings
    )
    assert outcome.outlet.status == "ok" and outcome.outlet.errors == ()
    (article,) = outcome.new_articles(store)
    assert article.source == "page" and article.lang == "ru"
    assert len(article.text.encode()) > 900 * 1024
    assert "Абзац 0." in article.text and f"Абзац {page.count(b'<p>') - 1}." in article.text
    assert_survived(web, outcome, store)


def long_read(size: int) -> bytes:
    """An article page of about `size` bytes: numbered paragraphs of court reporting."""
    paragraphs = []
    total = 0
    number = 0
    while total < size:
        paragraph = (
            f"<p>Абзац {number}. Суд в городе номер {number} рассмотрел дело о публикации "
            f"{number * 7} в социальной сети; защита обжаловала решение, прокурор запросил "
            f"{number % 9 + 1} лет колонии.</p>\n"
        )
        paragraphs.append(paragraph)
        total += len(paragraph.encode())
        number += 1
    return (
        "<!DOCTYPE html><html lang='ru'><head><meta charset='utf-8'><title>Лонгрид</title>"
        "</head><body><nav><a href='/'>Главная</a></nav><article><h1>Лонгрид</h1>"
        + "".join(paragraphs)
        + "</article></body></html>"
    ).encode()


def test_fixtures_are_what_they_claim() -> None:
    raw = (HOSTILE / "cp1251-labelled-utf8.xml").read_bytes()
    assert b'encoding="utf-8"' in raw and "Пензе".encode("cp1251") in raw
    raw = (HOSTILE / "utf8-labelled-cp1251.xml").read_bytes()
    assert b'encoding="windows-1251"' in raw and "Пензе".encode() in raw
    assert b"encoding" not in (HOSTILE / "cp1251-undeclared.xml").read_bytes()[:40]


async def test_a_feed_with_more_new_entries_than_one_poll_takes_loses_none(
    web: Web, store: Store
) -> None:
    """A feed cannot make one poll fetch (and hold) pages without bound: at most
    `max_new_per_feed` new entries per poll, the rest on the next polls, none lost."""
    items = "".join(
        f"<item><title>Заметка {n}</title><link>{web.base}/news/flood-{n}</link>"
        f"<description>Текст заметки {n}.</description></item>"
        for n in range(230)
    )
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Поток</title>'
        f"{items}</channel></rss>"
    ).encode()
    etag = '"flood-v1"'

    def flood(request: Request) -> Response:
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(body, content_type="application/rss+xml", headers={"ETag": etag})

    settings = replace(OPEN, max_new_per_feed=100)
    outcome = await poll_before_and_after(web, store, flood, settings)
    assert (outcome.outlet.status, outcome.outlet.new_articles) == ("ok", 100)
    assert outcome.outlet.errors == (
        "130 more new entries left for the next poll (at most 100 per feed and poll)",
    )
    assert "130 more new entries left for the next poll" in feeds_row(store.path)
    assert store.feed_state(OUTLET).etag is None  # so the next poll gets the whole feed
    assert_survived(web, outcome, store)

    stored = [outcome.outlet.new_articles]
    while stored[-1]:
        pages_before = len([r for r, _ in web.server.log if r.path.startswith("/news/flood-")])
        report = await web.poll(store, web.feeds, settings)
        pages = len([r for r, _ in web.server.log if r.path.startswith("/news/flood-")])
        assert pages - pages_before <= 100
        stored.append(next(f for f in report.feeds if f.name == OUTLET).new_articles)
    assert stored == [100, 100, 30, 0]
    assert len(outcome.new_articles(store)) == 230
    assert store.feed_state(OUTLET).etag == etag  # all taken: now the validator is kept
