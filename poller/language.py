"""The language of an article: langdetect for real text, the feed's language for scraps.

langdetect is random unless seeded and raises on text without letters; a headline of five
words is a coin toss for it. So: short text keeps the feed's declared language (the prior)
unless its script plainly contradicts it, and only a bounded prefix is ever analysed.
"""

from __future__ import annotations

import re
from functools import cache

from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

SHORT_TEXT_LETTERS = 120
"""Below this many letters we trust the prior (or the script) over langdetect."""

SAMPLE_CHARS = 2000
"""Only this prefix is analysed: plenty for a stable answer, and keeps detection ~ms."""

MIN_CONFIDENCE = 0.80
"""A langdetect answer less probable than this yields to the prior."""

CLEAR_SCRIPT_SHARE = 0.8
"""Share of letters in one script above which the script decides a short text's language."""

CYRILLIC_LANGUAGES = frozenset({"ru", "uk", "be", "bg", "sr", "mk", "kk", "ky", "tg", "mn"})
SCRIPT_DEFAULTS = {"cyrillic": "ru", "latin": "en"}
"""What a short text in a script contradicting the prior is taken to be (our outlets: ru/en)."""

_HTML_LANG = re.compile(rb"<html\b[^>]*?\blang\s*=\s*[\"']?([a-zA-Z]{2,3})", re.IGNORECASE)


def detect_language(text: str, *, prior: str) -> str:
    """An ISO 639-1 code for `text`; `prior` when the text is too short or unclear. Never raises."""
    sample = text[:SAMPLE_CHARS]
    letters = [char for char in sample if char.isalpha()]
    if len(letters) < SHORT_TEXT_LETTERS:
        return _language_by_script(letters, prior)
    detected = _langdetect(sample)
    if detected is None:
        return _language_by_script(letters, prior)
    language, probability = detected
    script = _dominant_script(letters)
    if probability < MIN_CONFIDENCE or (script is not None and _script_of(language) != script):
        return _language_by_script(letters, prior)
    return language


def declared_language(html: str | bytes) -> str | None:
    """The language a page declares in `<html lang=...>`, lower-cased, if any."""
    head = html[:4096].encode("utf-8", errors="ignore") if isinstance(html, str) else html[:4096]
    match = _HTML_LANG.search(head)
    return match.group(1).decode("ascii").lower() if match else None


def _language_by_script(letters: list[str], prior: str) -> str:
    script = _dominant_script(letters)
    if script is None or script == _script_of(prior):
        return prior
    return SCRIPT_DEFAULTS[script]


def _dominant_script(letters: list[str]) -> str | None:
    if not letters:
        return None
    cyrillic = sum(1 for char in letters if "\u0400" <= char <= "\u04ff")
    latin = sum(1 for char in letters if char.isascii())
    if cyrillic >= CLEAR_SCRIPT_SHARE * len(letters):
        return "cyrillic"
    if latin >= CLEAR_SCRIPT_SHARE * len(letters):
        return "latin"
    return None


def _script_of(language: str) -> str:
    return "cyrillic" if language in CYRILLIC_LANGUAGES else "latin"


def _langdetect(sample: str) -> tuple[str, float] | None:
    try:
        detector = _seeded_factory().create()
        detector.append(sample)
        best = detector.get_probabilities()[0]
    except (LangDetectException, IndexError):
        return None
    return best.lang, best.prob


@cache
def _seeded_factory() -> DetectorFactory:
    """Profiles load once per process (the poller's workers each load their own)."""
    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.seed = 0  # langdetect samples at random; a fixed seed makes answers repeatable
    return factory
