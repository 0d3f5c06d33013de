"""Canonical URLs: the same article, however it is linked, gets one key."""

from __future__ import annotations

import pytest

from poller.urls import InvalidURL, canonical_url

MT = "https://www.themoscowtimes.com/2024/02/16/court-jails-man-for-vkontakte-repost-a84123"
MEDUZA = "https://meduza.io/news/2024/03/05/v-kazani-oshtrafovali-blogera-za-repost"


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        # The Moscow Times: /YYYY/MM/DD/slug-aNNNNN, AMP under /amp/
        (MT, MT),
        (MT.replace(".com/", ".com/amp/", 1), MT),
        (MT + "?utm_source=rss&utm_medium=feed&utm_campaign=news", MT),
        (MT + "#comments", MT),
        (
            "HTTPS://WWW.TheMoscowTimes.com:443/2024/02/16/court-jails-man-for-vkontakte-repost-a84123",
            MT,
        ),
        (
            "http://www.themoscowtimes.com:80/ru/2024/02/16/sud-a12345",
            "http://www.themoscowtimes.com/ru/2024/02/16/sud-a12345",
        ),
        # Meduza: /amp/ prefix, Google AMP viewer, tracking from the Telegram channel
        (MEDUZA.replace("meduza.io/", "meduza.io/amp/"), MEDUZA),
        (
            "https://www.google.com/amp/s/meduza.io/amp/news/2024/03/05/v-kazani-oshtrafovali-blogera-za-repost",
            MEDUZA,
        ),
        (MEDUZA + "?utm_source=telegram&utm_medium=live&utm_campaign=live", MEDUZA),
        (
            "https://meduza.io/en/feature/2024/03/01/a-repost-a-fine?from=rss&ref=tg",
            "https://meduza.io/en/feature/2024/03/01/a-repost-a-fine",
        ),
        # TASS: numeric ids, .amp suffix, amp subdomain, ?amp, outputType=amp
        (
            "https://tass.ru/proisshestviya/20123456?utm_source=yandex.ru&utm_medium=organic&utm_campaign=yandex.ru&utm_referrer=yandex.ru",
            "https://tass.ru/proisshestviya/20123456",
        ),
        ("https://tass.ru/proisshestviya/20123456.amp", "https://tass.ru/proisshestviya/20123456"),
        ("https://tass.ru/proisshestviya/20123456/amp", "https://tass.ru/proisshestviya/20123456"),
        ("https://amp.tass.com/russia/1765432", "https://tass.com/russia/1765432"),
        ("https://tass.com/russia/1765432?amp", "https://tass.com/russia/1765432"),
        ("https://tass.com/russia/1765432?amp=1", "https://tass.com/russia/1765432"),
        ("https://tass.com/russia/1765432?outputType=amp", "https://tass.com/russia/1765432"),
        (
            "https://tass.ru/proisshestviya/20123456?yclid=123&_openstat=dGFzcy5ydTs7Ozs",
            "https://tass.ru/proisshestviya/20123456",
        ),
        # OVD-Info: Cyrillic and percent-encoded spellings of one path agree
        (
            "https://ovd.info/news/2024/05/01/delo-o-reposte",
            "https://ovd.info/news/2024/05/01/delo-o-reposte",
        ),
        (
            "https://ovd.info/express-news/2024/05/01/дело",
            "https://ovd.info/express-news/2024/05/01/%D0%B4%D0%B5%D0%BB%D0%BE",
        ),
        (
            "https://ovd.info/express-news/2024/05/01/%d0%b4%d0%b5%d0%bb%d0%be",
            "https://ovd.info/express-news/2024/05/01/%D0%B4%D0%B5%D0%BB%D0%BE",
        ),
        (
            "https://en.ovd.info/articles/2024/05/01/repost-case?fbclid=IwAR0abc&gclid=xyz",
            "https://en.ovd.info/articles/2024/05/01/repost-case",
        ),
        # RFE/RL: .html ids, AMP cache, AT Internet parameters
        (
            "https://www.rferl.org/a/russia-repost-prosecution/32812345.html?at_medium=rss&at_campaign=feed",
            "https://www.rferl.org/a/russia-repost-prosecution/32812345.html",
        ),
        (
            "https://www-svoboda-org.cdn.ampproject.org/c/s/www.svoboda.org/amp/32812345.html",
            "https://www.svoboda.org/a/32812345.html",
        ),
        ("https://www.svoboda.org/amp/32812345.html", "https://www.svoboda.org/a/32812345.html"),
        (
            "https://www.rferl.org/amp/russia-repost-prosecution/32812345.html",
            "https://www.rferl.org/a/russia-repost-prosecution/32812345.html",
        ),
        (
            "https://www.sibreal.org/amp/32812345.html?utm_source=tg",
            "https://www.sibreal.org/a/32812345.html",
        ),
        # internationalised host names: Unicode and punycode spellings agree
        (
            "https://ПРИМЕР.рф/новости/1",
            "https://xn--e1afmkfd.xn--p1ai/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8/1",
        ),
        (
            "https://xn--e1afmkfd.xn--p1ai/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8/1",
            "https://xn--e1afmkfd.xn--p1ai/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8/1",
        ),
        # credentials never belong in a stored key
        ("https://user:secret@meduza.io/news/1", "https://meduza.io/news/1"),
        # Mediazona; sorting of real parameters; path case kept
        (
            "https://zona.media/news/2024/06/01/Repost?page=2&lang=ru",
            "https://zona.media/news/2024/06/01/Repost?lang=ru&page=2",
        ),
        (
            "https://zona.media/news/2024/06/01/Repost?page=2&utm_content=x&lang=ru",
            "https://zona.media/news/2024/06/01/Repost?lang=ru&page=2",
        ),
        ("https://zona.media", "https://zona.media/"),
        ("  https://zona.media/article/2024/06/01/x \n", "https://zona.media/article/2024/06/01/x"),
        ("https://zona.media/article/%7Euser", "https://zona.media/article/~user"),
    ],
)
def test_canonical(raw: str, canonical: str) -> None:
    assert canonical_url(raw) == canonical


def test_same_article_through_many_doors_is_one_key() -> None:
    variants = [
        MEDUZA,
        MEDUZA + "?utm_source=rss",
        MEDUZA + "#top",
        MEDUZA.replace("https://meduza.io/", "https://meduza.io/amp/"),
        MEDUZA.replace("https://meduza.io/", "https://Meduza.io:443/"),
        "https://www.google.com/amp/s/" + MEDUZA.removeprefix("https://"),
    ]
    assert {canonical_url(variant) for variant in variants} == {MEDUZA}


@pytest.mark.parametrize(
    ("link", "base", "canonical"),
    [
        ("/news/2024/03/05/x", "https://meduza.io/rss/all", "https://meduza.io/news/2024/03/05/x"),
        (
            "x-a1",
            "https://www.themoscowtimes.com/2024/02/16/",
            "https://www.themoscowtimes.com/2024/02/16/x-a1",
        ),
        (
            "//tass.ru/politika/1?from=rss",
            "https://tass.ru/rss/v2.xml",
            "https://tass.ru/politika/1",
        ),
        ("../a/1.html", "https://www.rferl.org/z/rss/", "https://www.rferl.org/z/a/1.html"),
        ("https://ovd.info/a", "https://meduza.io/", "https://ovd.info/a"),
    ],
)
def test_relative_links_resolve_against_base(link: str, base: str, canonical: str) -> None:
    assert canonical_url(link, base) == canonical


def test_parameters_that_identify_the_page_are_kept() -> None:
    url = "https://www.svoboda.org/a/news.html?id=32812345&p=2"
    assert canonical_url(url) == url


def test_amp_inside_a_word_is_not_an_amp_variant() -> None:
    url = "https://meduza.io/feature/2024/01/01/camp-ampersand/example.ampx"
    assert canonical_url(url) == url


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "meduza.io/news",
        "javascript:alert(1)",
        "mailto:a@b.c",
        "ftp://x.org/a",
        "https://",
        "http://[::1",
        "http://[::1]:99999/",
        "http://exa mple.com/",
        "https://пример..рф/",
        "https://a..b/",
    ],
)
def test_not_http_urls_are_refused_with_a_clear_error(bad: str) -> None:
    with pytest.raises(InvalidURL, match="URL"):
        canonical_url(bad)


def test_nested_amp_viewers_unwrap_but_not_without_end() -> None:
    once = "https://www.google.com/amp/s/meduza.io/amp/news/2024/x"
    twice = "https://www.google.com/amp/s/www.google.com/amp/s/meduza.io/amp/news/2024/x"
    assert canonical_url(once) == canonical_url(twice) == "https://meduza.io/news/2024/x"
    hostile = "https://www.google.com" + "/amp/s/www.google.com" * 500 + "/amp/s/meduza.io/x"
    with pytest.raises(InvalidURL, match="nested too deep"):
        canonical_url(hostile)


def test_idempotent() -> None:
    once = canonical_url("https://amp.tass.com/russia/1?b=1&a=2&utm_source=x#y")
    assert canonical_url(once) == once
