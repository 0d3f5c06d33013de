"""Text normalisation shared by training, scoring, explanations and de-duplication."""

from __future__ import annotations

import re

# A token is a run of letters and digits; a dot joins two runs only between digits, so
# article-of-law numbers such as "20.3.3", "280.3" and "207.3" stay one token.
_TOKEN = re.compile(r"[^\W_]+(?:(?<=\d)\.(?=\d)[^\W_]+)*")
_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)


def normalise(text: str) -> str:
    """Lowercase, ё→е, tokens of letters and digits (keeping dotted law numbers), one space."""
    return " ".join(token for chunk in text.split() for token in chunk_tokens(chunk))


def chunk_tokens(chunk: str) -> list[str]:
    """The tokens of one whitespace-separated chunk: "«Репост»," -> ["репост"].

    Normalisation works chunk by chunk, so a scorer may normalise each distinct chunk once.
    """
    chunk = chunk.lower().replace("ё", "е")
    # Most chunks are plain words: the regex (the slow part) only runs on the rest.
    return [chunk] if chunk.isalnum() else _TOKEN.findall(chunk)


def guess_lang(text: str) -> str:
    """'ru' when Cyrillic letters outnumber Latin ones, else 'en': enough for two languages."""
    sample = text[:2000]
    return "ru" if len(_CYRILLIC.findall(sample)) > len(_LATIN.findall(sample)) else "en"
