"""Article extraction on pages written in the style of real outlets (tests/fixtures/pages/).

expected.json pins, for each page, every body paragraph that must survive and every piece of
clutter (donation appeals, "read also", cookie notes, share and subscribe prompts...) that
must not.
"""

from __future__ import annotations

import json
import pickle
import re
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

from poller.extract import (
    BOILERPLATE,
    CUES,
    MAX_LINK_LIST_LINES,
    MIN_TEXT_CHARS,
    Extracted,
    boilerplate_kind,
    extract_article,
    published_date,
    remove_boilerplate,
)
from poller.language import detect_language
from poller.pages import decode_html

PAGES = Path(__file__).parent / "fixtures" / "pages"
EXPECTED: dict[str, dict] = {
    name: spec
    for name, spec in json.loads((PAGES / "expected.json").read_text("utf-8")).items()
    if not name.startswith("_")
}
ARTICLES = [name for name, spec in EXPECTED.items() if spec.get("extracted", True)]


def extract_fixture(name: str) -> Extracted | None:
    html = decode_html((PAGES / name).read_bytes(), "text/html")
    return extract_article(html, url=EXPECTED[name]["url"])


@pytest.fixture(scope="module")
def extracted() -> dict[str, Extracted | None]:
    return {name: extract_fixture(name) for name in EXPECTED}


@pytest.mark.parametrize("name", ARTICLES)
def test_every_body_paragraph_is_kept(name: str, extracted: dict) -> None:
    article = extracted[name]
    assert article is not None
    missing = [snippet for snippet in EXPECTED[name]["body"] if snippet not in article.text]
    assert missing == []


@pytest.mark.parametrize("name", ARTICLES)
def test_no_clutter_is_left(name: str, extracted: dict) -> None:
    text = extracted[name].text
    left = [snippet for snippet in EXPECTED[name]["clutter"] if snippet in text]
    assert left == []


@pytest.mark.parametrize("name", ARTICLES)
def test_title_date_author(name: str, extracted: dict) -> None:
    article, spec = extracted[name], EXPECTED[name]
    assert article.title == spec["title"]
    assert article.published == datetime.fromisoformat(spec["published"])
    assert article.published.tzinfo is not None
    assert article.author == spec["author"]


@pytest.mark.parametrize("name", ARTICLES)
def test_language_of_extracted_text(name: str, extracted: dict) -> None:
    wrong_prior = "en" if EXPECTED[name]["lang"] == "ru" else "ru"
    assert detect_language(extracted[name].text, prior=wrong_prior) == EXPECTED[name]["lang"]


def test_title_is_not_repeated_as_the_first_line_of_text(extracted: dict) -> None:
    for name in ARTICLES:
        assert not extracted[name].text.startswith(extracted[name].title), name


def test_page_with_too_little_text_gives_nothing(extracted: dict) -> None:
    assert extracted["too-short.html"] is None


def test_windows_1251_page_declared_only_in_meta_comes_out_right() -> None:
    body = (PAGES / "bryansk-cp1251.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    article = extract_article(decode_html(body, "text/html"))
    assert article is not None
    assert article.text.startswith("Советский районный суд Брянска")


@pytest.mark.parametrize(
    "html",
    [
        "",
        "   ",
        "not html at all",
        "<html><body></body></html>",
        "<html><body><p>Коротко.</p></body></html>",
        "<" * 5000,
        "<html>" + "<div>" * 3000 + "глубоко" + "</div>" * 3000 + "</html>",
        "\x00\x01\x02<p>\ufffd\ufffd</p>",
        '<?xml version="1.0" encoding="utf-8"?><rss><channel><item>x</item></channel></rss>',
    ],
)
def test_hostile_or_empty_pages_give_none_without_raising(html: str) -> None:
    assert extract_article(html) is None


def test_just_enough_text_is_kept_and_just_too_little_is_not() -> None:
    sentence = "Суд оштрафовал жителя Перми за комментарий во «ВКонтакте». "

    def page(count: int) -> str:
        return f"<html><body><article><p>{sentence * count}</p></article></body></html>"

    enough = next(n for n in range(1, 20) if len(sentence * n) >= MIN_TEXT_CHARS + 10)
    assert extract_article(page(enough)) is not None
    assert extract_article(page(2)) is None


def test_runs_in_a_process_pool_and_results_pickle() -> None:
    html = (PAGES / "meduza-en.html").read_text("utf-8")
    with ProcessPoolExecutor(max_workers=1) as pool:
        article = pool.submit(extract_article, html, url="https://meduza.io/en/x").result()
    assert article == pickle.loads(
        pickle.dumps(extract_article(html, url="https://meduza.io/en/x"))
    )


# --- the post-filter on its own -------------------------------------------------------------

JOURNALISM = [
    # Donations, subscriptions and sharing are what many of these stories are about.
    "Поводом для дела стал донат в 500 рублей Фонду борьбы с коррупцией, который он сделал в 2021 году.",
    "Следствие считает, что призыв подписаться на телеграм-канал ФБК был участием в экстремистском сообществе.",
    "She was fined for sharing a post that urged readers to support independent journalism.",
    "He had asked followers to donate to a Ukrainian charity, prosecutors said.",
    "Поделиться видео с друзьями — так объяснил свой репост подсудимый.",
    "The court cited his Telegram channel, where he asked readers to subscribe to the newsletter of a banned group, as evidence.",
    "Суд отказался принять довод защиты, что материал был создан иностранным агентом, а не подсудимым.",
    "Read the verdict in full: the judge devoted four pages to the meaning of a single emoji.",
    "12 марта 2024 года суд вынес приговор.",
]


@pytest.mark.parametrize("paragraph", JOURNALISM)
def test_story_paragraphs_about_donations_and_subscriptions_survive(paragraph: str) -> None:
    assert boilerplate_kind(paragraph) is None
    assert remove_boilerplate(paragraph) == paragraph


CLUTTER = [
    ("Поддержите нас!", "donation appeal"),
    ("Support independent journalism", "donation appeal"),
    ("Донат", "donation appeal"),
    ("Support The Moscow Times!", "donation appeal"),
    ("Not ready to support today?", "donation appeal"),
    ("Your support, no matter how small, makes a world of difference.", "donation appeal"),
    ("Читайте также: Как устроены дела о фейках", "read also"),
    ("Read also", "read also"),
    ("We use cookies to improve your experience.", "cookie notice"),
    ("Продолжая пользоваться сайтом, вы соглашаетесь на обработку cookie.", "cookie notice"),
    ("Поделиться", "share buttons"),
    ("Share on Facebook", "share buttons"),
    ("Подпишитесь на наш телеграм-канал", "subscription prompt"),
    ("Subscribe to our Telegram channel", "subscription prompt"),
    ("Sign up for our newsletter", "subscription prompt"),
    ("This site is under maintenance. Sorry for the inconvenience.", "maintenance banner"),
    ("На сайте ведутся технические работы", "maintenance banner"),
    (
        "ДАННОЕ СООБЩЕНИЕ (МАТЕРИАЛ) СОЗДАНО И (ИЛИ) РАСПРОСТРАНЕНО ИНОСТРАННЫМ СРЕДСТВОМ "
        "МАССОВОЙ ИНФОРМАЦИИ, ВЫПОЛНЯЮЩИМ ФУНКЦИИ ИНОСТРАННОГО АГЕНТА",
        "foreign agent label",
    ),
    ("Нашли ошибку? Выделите текст и нажмите Ctrl+Enter", "error report prompt"),
    ("Remind me later.", "page furniture"),
    ("Topics: Internet, Legal", "page furniture"),
    ('Press "Enter" to skip to content', "page furniture"),
    ("All news", "page furniture"),
    ("A Message from The Moscow Times:", "donation appeal"),
    ("Not ready to support today?", "donation appeal"),
    ("14:37, 12 марта 2024", "date line"),
    ("May 21, 2024", "date line"),
]
CLUTTER_EXAMPLES = [paragraph for paragraph, _ in CLUTTER]


@pytest.mark.parametrize(("paragraph", "kind"), CLUTTER)
def test_clutter_paragraphs_are_recognised(paragraph: str, kind: str) -> None:
    assert boilerplate_kind(paragraph) == kind
    assert remove_boilerplate(paragraph) == ""


def test_every_pattern_match_contains_one_of_its_cues() -> None:
    """CUES only skip work: no line a pattern matches may lack all of its kind's cues."""
    lines = {line.strip() for line in CLUTTER_EXAMPLES + JOURNALISM}
    for name in EXPECTED:
        html = decode_html((PAGES / name).read_bytes(), None)
        lines.update(line.strip() for line in re.sub(r"<[^>]+>", "\n", html).splitlines())
    for line in filter(None, lines):
        for kind, cues in CUES.items():
            if BOILERPLATE[kind].search(line):
                assert any(cue in line.lower() for cue in cues), (kind, line)


def test_headlines_under_a_read_also_heading_go_with_it() -> None:
    text = "\n".join(
        [
            "Первый абзац статьи о деле за репост, достаточно длинный, чтобы быть абзацем.",
            "Читайте также",
            "Суд в Курске арестовал блогера за видео в тиктоке",
            "Как работают дела о фейках",
            "Второй абзац статьи: адвокат обжалует приговор.",
        ]
    )
    assert remove_boilerplate(text).splitlines() == [
        "Первый абзац статьи о деле за репост, достаточно длинный, чтобы быть абзацем.",
        "Второй абзац статьи: адвокат обжалует приговор.",
    ]


def test_a_read_also_heading_takes_a_few_headlines_not_the_rest_of_the_story() -> None:
    story = [f"Подзаголовок номер {i}" for i in range(10)]
    kept = remove_boilerplate("\n".join(["Читайте также", *story])).splitlines()
    assert kept == story[MAX_LINK_LIST_LINES:]


def test_a_closing_fund_raising_letter_is_cut_off_whole() -> None:
    story = ["The court fined him 30,000 rubles for a repost. " * 3] * 4
    letter = [
        "Dear readers,",
        "Times are hard for us: our newsroom has been outlawed at home.",
        "Thank you.",
    ]
    assert remove_boilerplate("\n".join(story + letter)).splitlines() == [s.strip() for s in story]


def test_dear_readers_early_in_a_story_is_only_a_line() -> None:
    text = (
        "Dear readers, the judge wrote in her ruling, should not confuse a like with an opinion.\n"
        + ("The court fined him 30,000 rubles for a repost. " * 10)
    )
    assert "the judge wrote" in remove_boilerplate(text)


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (
            '<script type="application/ld+json">{"datePublished": "2024-03-05T10:20:00+03:00"}</script>',
            "2024-03-05T10:20:00+03:00",
        ),
        (
            '<meta property="article:published_time" content="2024-03-05T07:20:00Z">',
            "2024-03-05T07:20:00+00:00",
        ),
        (
            '<meta content="2024-03-05T10:20:00+03:00" property="article:published_time">',
            "2024-03-05T10:20:00+03:00",
        ),
        ('<meta itemprop="datePublished" content="2024-03-05">', "2024-03-05T00:00:00+00:00"),
        ('<time datetime="2024-03-05T10:20:00">', "2024-03-05T10:20:00+00:00"),
        (
            '<meta property="article:published_time" content="yesterday"><time datetime="2024-03-05T10:20+03:00">',
            "2024-03-05T10:20:00+03:00",
        ),
        (
            '<meta name="pubdate" content="Tue, 05 Mar 2024 10:20:00 +0300">',
            "2024-03-05T10:20:00+03:00",
        ),
        ("<p>no date here</p>", None),
    ],
)
def test_published_date(html: str, expected: str | None) -> None:
    found = published_date(html)
    assert found == (datetime.fromisoformat(expected) if expected else None)
    if found is not None:
        assert found.tzinfo is not None


def test_published_date_is_timezone_aware_utc_for_naive_times() -> None:
    assert published_date('<time datetime="2024-03-05T10:20:00">') == datetime(
        2024, 3, 5, 10, 20, tzinfo=UTC
    )
