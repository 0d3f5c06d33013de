"""The language of an article: langdetect for real text, the feed's language for scraps.

langdetect is random unless seeded and raises on text without letters; a headline of five
words is a coin toss for it. So: short text keeps the feed's declared language (the prior)
unless its script plainly contradicts it, and only a bounded prefix is ever analysed.

langdetect costs ~4 ms per article in pure Python, as much as extracting it; the two
languages our outlets publish in are recognised first by cheap, unambiguous signs (letters
only Russian uses, English function words), and langdetect decides everything else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

SHORT_TEXT_LETTERS = 120
"""Below this many letters we trust the prior (or the script) over langdetect."""

SAMPLE_CHARS = 2000
"""Only this prefix is analysed."""

LANGDETECT_CHARS = 600
"""langdetect's cost grows with its input; this much text is already unambiguous for it."""

ENGLISH_FUNCTION_WORD_SHARE = 0.15
"""English prose has ~25% of its words among ENGLISH_FUNCTION_WORDS; other Latin-script
languages a few percent (they share "in", "a", "on", which are therefore not in the list)."""

ENGLISH_FUNCTION_WORDS = frozenset(
    [
        "the",
        "of",
        "and",
        "to",
        "that",
        "for",
        "with",
        "was",
        "were",
        "is",
        "are",
        "has",
        "have",
        "had",
        "said",
        "from",
        "by",
        "his",
        "her",
        "its",
        "it",
        "this",
        "which",
        "be",
        "been",
        "who",
        "not",
        "they",
        "their",
        "would",
        "will",
    ]
)

MIN_CONFIDENCE = 0.80
"""A langdetect answer less probable than this yields to the prior."""

CLEAR_SCRIPT_SHARE = 0.8
"""Share of letters in one script above which the script decides a short text's language."""

CYRILLIC_LANGUAGES = frozenset({"ru", "uk", "be", "bg", "sr", "mk", "kk", "ky", "tg", "mn"})
SCRIPT_DEFAULTS = {"cyrillic": "ru", "latin": "en"}
"""What a short text in a script contradicting the prior is taken to be (our outlets: ru/en)."""

_RUSSIAN_ONLY = re.compile(r"[ыэЫЭ]")
"""Letters Russian has and Ukrainian, Bulgarian, Serbian and Macedonian lack."""
_OTHER_CYRILLIC = re.compile(r"[іїєґўјљњћђџѕәғқңөұүһӣӯҳҷІЇЄҐЎЈЉЊЋЂЏЅӘҒҚҢӨҰҮҺӢӮҲҶ]")
"""Letters of other Cyrillic alphabets (Ukrainian і, Belarusian ў, Kazakh ә...), never Russian."""
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[A-Za-z]")
_LETTER = re.compile(r"[^\W\d_]")
_LATIN_WORD = re.compile(r"[a-z']+")
_HTML_LANG = re.compile(rb"<html\b[^>]*?\blang\s*=\s*[\"']?([a-zA-Z]{2,3})", re.IGNORECASE)


def detect_language(text: str, *, prior: str) -> str:
    """An ISO 639-1 code for `text`; `prior` when the text is too short or unclear. Never raises."""
    sample = text[:SAMPLE_CHARS]
    script = _Script.count(sample)
    if script.letters < SHORT_TEXT_LETTERS:
        return _language_by_script(script, prior)
    obvious = _obvious_language(sample, script)
    if obvious is not None:
        return obvious
    detected = _langdetect(sample[:LANGDETECT_CHARS])
    if detected is None:
        return _language_by_script(script, prior)
    language, probability = detected
    dominant = script.dominant()
    if probability < MIN_CONFIDENCE or (dominant is not None and _script_of(language) != dominant):
        return _language_by_script(script, prior)
    return language


def declared_language(html: str | bytes) -> str | None:
    """The language a page declares in `<html lang=...>`, lower-cased, if any."""
    head = html[:4096].encode("utf-8", errors="ignore") if isinstance(html, str) else html[:4096]
    match = _HTML_LANG.search(head)
    return match.group(1).decode("ascii").lower() if match else None


@dataclass(frozen=True)
class _Script:
    letters: int
    cyrillic: int
    latin: int

    @classmethod
    def count(cls, sample: str) -> _Script:
        return cls(
            letters=len(_LETTER.findall(sample)),
            cyrillic=len(_CYRILLIC.findall(sample)),
            latin=len(_LATIN.findall(sample)),
        )

    def dominant(self) -> str | None:
        if self.letters and self.cyrillic >= CLEAR_SCRIPT_SHARE * self.letters:
            return "cyrillic"
        if self.letters and self.latin >= CLEAR_SCRIPT_SHARE * self.letters:
            return "latin"
        return None


def _obvious_language(sample: str, script: _Script) -> str | None:
    """ "ru" or "en" when the text says so beyond doubt, else None (ask langdetect)."""
    dominant = script.dominant()
    if dominant == "cyrillic":
        if _RUSSIAN_ONLY.search(sample) and not _OTHER_CYRILLIC.search(sample):
            return "ru"
    elif dominant == "latin":
        words = _LATIN_WORD.findall(sample.lower())
        function_words = sum(1 for word in words if word in ENGLISH_FUNCTION_WORDS)
        if words and function_words >= ENGLISH_FUNCTION_WORD_SHARE * len(words):
            return "en"
    return None


def _language_by_script(script: _Script, prior: str) -> str:
    dominant = script.dominant()
    if dominant is None or dominant == _script_of(prior):
        return prior
    return SCRIPT_DEFAULTS[dominant]


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
