"""Decoding page bytes: declared charsets win, Russian legacy encodings come out right."""

from __future__ import annotations

import codecs

import pytest

from poller.pages import decode_html, normalize_charset

RUSSIAN = "Суд приговорил жителя Твери к штрафу за репост. Ёлка и ёж, съезд, объявление."


def page(charset_meta: str = "", body: str = RUSSIAN) -> str:
    return f"<html><head>{charset_meta}<title>News</title></head><body><p>{body}</p></body></html>"


@pytest.mark.parametrize("charset", ["windows-1251", "cp1251", "koi8-r", "utf-8"])
def test_charset_from_http_header(charset: str) -> None:
    body = page().encode(charset)
    assert RUSSIAN in decode_html(body, f"text/html; charset={charset}")


def test_header_charset_in_quotes_and_upper_case() -> None:
    body = page().encode("koi8-r")
    assert RUSSIAN in decode_html(body, 'text/html; charset="KOI8-R"')


@pytest.mark.parametrize(
    "meta",
    [
        '<meta charset="windows-1251">',
        "<meta charset=windows-1251>",
        '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">',
        "<META HTTP-EQUIV=Content-Type CONTENT='text/html;charset=Windows-1251'>",
    ],
)
def test_windows_1251_declared_only_in_meta(meta: str) -> None:
    body = page(meta).encode("cp1251")
    assert RUSSIAN in decode_html(body, "text/html")


def test_koi8r_declared_only_in_meta() -> None:
    body = page('<meta charset="koi8-r">').encode("koi8-r")
    assert RUSSIAN in decode_html(body, None)


def test_meta_far_down_after_scripts_is_still_found() -> None:
    scripts = "<script>var x = 1;</script>" * 150  # ~4 KB before the meta
    body = page(scripts + '<meta charset="windows-1251">').encode("cp1251")
    assert RUSSIAN in decode_html(body, None)


def test_header_wins_over_meta() -> None:
    body = page('<meta charset="windows-1251">').encode("utf-8")
    assert RUSSIAN in decode_html(body, "text/html; charset=utf-8")


def test_bom_wins_over_wrong_meta() -> None:
    body = codecs.BOM_UTF8 + page('<meta charset="windows-1251">').encode("utf-8")
    text = decode_html(body, None)
    assert RUSSIAN in text
    assert not text.startswith("\ufeff")


def test_utf16_with_bom() -> None:
    body = codecs.BOM_UTF16_LE + page().encode("utf-16-le")
    assert RUSSIAN in decode_html(body, None)


@pytest.mark.parametrize("bogus", ["x-no-such-charset", "base64", "zlib", "", "utf-7;;", "rot13"])
def test_bogus_header_charset_falls_through_to_meta(bogus: str) -> None:
    body = page('<meta charset="windows-1251">').encode("cp1251")
    assert RUSSIAN in decode_html(body, f"text/html; charset={bogus}")


def test_bogus_meta_falls_through_to_utf8() -> None:
    body = page('<meta charset="klingon-8">').encode("utf-8")
    assert RUSSIAN in decode_html(body, None)


def test_undeclared_utf8() -> None:
    assert RUSSIAN in decode_html(page().encode("utf-8"), None)


def test_undeclared_windows_1251_falls_back_to_it() -> None:
    assert RUSSIAN in decode_html(page().encode("cp1251"), "text/html")


def test_wrong_declared_charset_is_not_trusted_when_bytes_do_not_fit() -> None:
    body = page().encode("cp1251")
    assert RUSSIAN in decode_html(body, "text/html; charset=utf-8")


def test_declared_utf8_with_one_stray_byte_stays_utf8() -> None:
    body = page().encode("utf-8").replace(b"<title>", b"<title>\xff")
    text = decode_html(body, "text/html; charset=utf-8")
    assert RUSSIAN in text


def test_undeclared_koi8r_is_told_from_windows_1251_by_letter_case() -> None:
    assert RUSSIAN in decode_html(page().encode("koi8-r"), None)
    assert RUSSIAN in decode_html(page().encode("cp1251"), None)


def test_stale_windows_1251_label_on_utf8_bytes_means_utf8() -> None:
    body = page('<meta charset="windows-1251">').encode("utf-8")
    assert RUSSIAN in decode_html(body, "text/html; charset=windows-1251")


def test_koi8r_label_on_windows_1251_bytes_stays_koi8r() -> None:
    # Both are single-byte: nothing in the bytes contradicts the label, so the label wins.
    body = page().encode("cp1251")
    assert decode_html(body, "text/html; charset=koi8-r") == body.decode("koi8-r")


def test_latin1_header_on_utf8_bytes_means_utf8() -> None:
    assert RUSSIAN in decode_html(page().encode("utf-8"), "text/html; charset=ISO-8859-1")


def test_latin1_page_really_latin1() -> None:
    text = "Café au lait, naïve résumé"
    assert text in decode_html(page(body=text).encode("latin-1"), "text/html; charset=iso-8859-1")


def test_header_claiming_utf16_on_utf8_bytes_is_not_trusted() -> None:
    assert RUSSIAN in decode_html(page().encode("utf-8"), "text/html; charset=UTF-16")


def test_utf16_without_bom_declared_in_header() -> None:
    assert RUSSIAN in decode_html(page().encode("utf-16-le"), "text/html; charset=utf-16le")


def test_meta_claiming_utf16_on_ascii_bytes_is_read_as_utf8() -> None:
    body = page('<meta charset="utf-16">').encode("utf-8")
    assert RUSSIAN in decode_html(body, None)


@pytest.mark.parametrize("body", [b"", b"\x00\x01\x02", bytes(range(256)) * 4, b"\xff" * 1000])
def test_never_raises(body: bytes) -> None:
    assert isinstance(decode_html(body, "text/html; charset=utf-8"), str)
    assert isinstance(decode_html(body, None), str)


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("windows-1251", "cp1251"),
        ("Windows1251", "cp1251"),
        ("win-1251", "cp1251"),
        ("x-cp1251", "cp1251"),
        ("KOI8R", "koi8-r"),
        ("utf8", "utf-8"),
        ("base64", None),
        ("nonsense", None),
        (None, None),
    ],
)
def test_normalize_charset(label: str | None, expected: str | None) -> None:
    assert normalize_charset(label) == expected
