"""Extractive summaries: the lead sentences that carry the news, in the article's language.

`split_sentences` knows the abbreviations and initials Russian and English news use, so
"ст. 282 УК РФ", "г. Барнаул", "А. А. Иванов", "U.S." or "Jan. 5" never end a sentence.
`summarize` skips datelines, bylines, photo credits and "read also" leftovers, leaves out a
sentence that only repeats the headline, and cuts at a sentence boundary.
"""

from __future__ import annotations

import re

# Abbreviations after which a period never ends a sentence, lower-cased, without the period.
_NEVER_FINAL = frozenset(
    {
        # Russian
        "ст", "стст", "ч", "чч", "п", "пп", "пт", "г", "гг", "ул", "пр", "просп", "пер", "пл",
        "д", "корп", "кв", "с", "пос", "дер", "обл", "р-н", "им", "проф", "акад", "доц", "ген",
        "ок", "см", "стр", "рис", "табл", "напр", "тел", "гл", "изд", "св", "оп", "федер", "гр",
        # English
        "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "no", "nos", "vs", "gen", "sen",
        "rep", "gov", "lt", "col", "sgt", "capt", "cmdr", "maj", "adm", "rev", "hon", "pres",
        "art", "arts", "para", "sec", "ch", "approx", "fig", "vol", "pp", "ltd", "inc", "corp",
        "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
        "mt", "ft", "ave", "blvd", "rd", "est",
    }
)  # fmt: skip
_NEVER_FINAL_DOTTED = frozenset({"т.е", "т.к", "т.н", "и.о", "e.g", "i.e", "a.k.a", "ул.и"})

_CANDIDATE = re.compile(r"(\.\.\.|[.!?…]+)([\"'»”’)\]]*)(\s+)")
_WORD_BEFORE = re.compile(r"([\w\-]+(?:\.[\w\-]+)*)$")
_OPENERS = "«“\"'(„["

_DATELINE = re.compile(
    r"""^\s*[A-ZА-ЯЁ][A-ZА-ЯЁ.\-]{2,}(?:\s[A-ZА-ЯЁ][A-ZА-ЯЁ\-]+)*  # MOSCOW, ST. PETERSBURG
    (?:[,.]?\s*(?:\d{1,2}\s[а-яё]+|[A-Z][a-z]{2,8}\.?\s\d{1,2}|\d{1,2}\s[A-Z][a-z]{2,8}
       |[A-Z][a-z]+))?                                          # , 21 ноября / , Nov. 3 / , Russia
    [,.]?\s*
    (?:/[^/\n]{2,20}/\.?\s+                                    # /ТАСС/.
      |(?:\([^)\n]{2,20}\)\s*|[A-Z][A-Z.]{2,15}\s*)?(?:[—–]|-{1,2})\s+  # (Reuters) - / INTERFAX.RU -
    )
    (?:(?:РИА\s+Новости|RIA\s+Novosti|Интерфакс|Sputnik|ТАСС|TASS)[.,]\s+)?""",
    re.VERBOSE,
)
_JUNK_LINE = re.compile(
    r"""^\s*(?:
        (?:фото|видео|иллюстрация|коллаж|photo|photograph|video|image|illustration)
            (?:\s+by)?\s*[:©]                 # Фото: ТАСС / Photo: Reuters
      | ©
      | (?:by|автор|текст|author|written\s+by|reporting\s+by|editing\s+by)\s*:?\s+
            [A-ZА-ЯЁ][\w.\-]*(?:\s+[A-ZА-ЯЁ][\w.\-]*){0,3}\s*$   # byline
      | (?:читайте|смотрите)\s+(?:также|еще|ещё)
      | (?:read|see)\s+(?:also|more)\b
      | (?:related|подробнее)\s*:
      | (?:подписывайтесь|подпишитесь|subscribe|sign\s+up|follow\s+us|поддержите|support\s+us)\b
      | (?:реклама|advertisement|поделиться|share\s+this)\s*$
      | (?:обновлено|updated|опубликовано|published)\s*:?\s*\d
      | \#\w+(?:\s+\#\w+)*\s*$
    )""",
    re.VERBOSE | re.IGNORECASE,
)
_ATTRIBUTION = re.compile(
    r"^(?:об этом (?:сообщ|пишет|рассказ|заявил|говорится)|"
    r"(?:this|that) was reported by|as reported by)",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[\wё]+", re.IGNORECASE)


def split_sentences(text: str, lang: str = "ru") -> list[str]:
    """Sentences of `text`, each stripped; a line break always ends a sentence."""
    sentences: list[str] = []
    for line in text.splitlines():
        line = " ".join(line.split())
        if line:
            sentences.extend(_split_line(line))
    return sentences


def _split_line(line: str) -> list[str]:
    sentences = []
    start = 0
    for match in _CANDIDATE.finditer(line):
        after = match.end()
        if after >= len(line) or not _starts_sentence(line[after]):
            continue
        if _inside_quote(line, start, match.end(2)):
            continue
        if match.group(1) == "." and _is_abbreviation(line[start : match.start(1)]):
            continue
        sentences.append(line[start : match.end(2)].strip())
        start = after
    tail = line[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def _starts_sentence(char: str) -> bool:
    return char.isupper() or char.isdigit() or char in _OPENERS


def _inside_quote(line: str, start: int, end: int) -> bool:
    """True inside «…» or “…” that closes later on this line (an unclosed quote is ignored)."""
    span = line[start:end]
    for opener, closer in (("«", "»"), ("“", "”")):
        depth = span.count(opener) - span.count(closer)
        if depth > 0 and line.count(opener, start) <= line.count(closer, start):
            return True
    return line.count('"', start) % 2 == 0 and span.count('"') % 2 == 1


def _is_abbreviation(before: str) -> bool:
    found = _WORD_BEFORE.search(before)
    if not found:
        return False
    word = found.group(1)
    lower = word.lower()
    if lower in _NEVER_FINAL or lower in _NEVER_FINAL_DOTTED:
        return True
    if len(word) == 1 and word.isupper():  # an initial: "А. Навальный", "J. Smith"
        return True
    parts = word.split(".")
    # U.S., U.K., Т.Н.: dotted capitals are abbreviations; lower-case т.д./т.п. may end one
    return len(parts) > 1 and all(len(part) <= 2 for part in parts) and word.isupper()


def summarize(title: str, text: str, lang: str = "ru", limit: int = 300) -> str:
    """The one or two lead sentences that carry the news, at most `limit` characters.

    The headline is shown separately, so a sentence that only repeats it is skipped. When even
    the first sentence is too long it is cut at a clause or word boundary and ends with "…".
    """
    sentences = lead_sentences(title, text, lang)
    if not sentences:
        return ""
    first = sentences[0]
    if len(first) > limit:
        return _cut(first, limit)
    summary = first
    for sentence in sentences[1:2]:
        if len(summary) + 1 + len(sentence) <= limit:
            summary = f"{summary} {sentence}"
    return summary


def lead_sentences(title: str, text: str, lang: str = "ru") -> list[str]:
    """Sentences of the article body that may stand in a summary, in order."""
    lines = [line for line in text.splitlines() if line.strip()]
    if lines:
        lines[0] = _DATELINE.sub("", lines[0], count=1)
    body = "\n".join(line for line in lines if not _JUNK_LINE.match(line))
    title_tokens = _tokens(title)
    kept = []
    for sentence in split_sentences(body, lang):
        if _JUNK_LINE.match(sentence) or _ATTRIBUTION.match(sentence):
            continue
        tokens = _tokens(sentence)
        if len(tokens) >= 3 and not _repeats(tokens, title_tokens):
            kept.append(sentence)
    return kept


def _repeats(tokens: set[str], title_tokens: set[str]) -> bool:
    if not tokens or not title_tokens:
        return False
    shared = len(tokens & title_tokens)
    return shared / len(tokens | title_tokens) >= 0.75 or (
        shared == len(tokens) and len(tokens) <= len(title_tokens)
    )


def _tokens(text: str) -> set[str]:
    return {token.lower().replace("ё", "е") for token in _TOKEN.findall(text)}


def _cut(sentence: str, limit: int) -> str:
    room = sentence[: limit - 1]
    for separator in ("; ", ", ", " — ", " – ", ": "):
        position = room.rfind(separator)
        if position >= limit // 2:
            return room[:position].rstrip(" ,;:—–") + "…"
    position = room.rfind(" ")
    return (room[:position] if position > 0 else room).rstrip(" ,;:—–") + "…"
