"""A transparent keyword rule, the yardstick the trained model has to beat.

Relevant when the normalised headline and text name an online medium of expression AND a
step of prosecution. It knows nothing of offline acts or platform regulation, which is
exactly where the trained model should do better.
"""

from __future__ import annotations

import re

from classifiers.corpus import Document
from classifiers.text import normalise

# Word beginnings: a token matches when it starts with one of these.
ONLINE_STEMS = (
    "репост", "публикац", "опубликова", "соцсет", "вконтакте", "telegram", "телеграм",
    "youtube", "ютуб", "instagram", "инстаграм", "tiktok", "тикток", "facebook", "фейсбук",
    "twitter", "твиттер", "одноклассник", "whatsapp", "мессенджер", "комментар", "мем",
    "видеоролик", "ролик", "блог", "лайк", "стрим", "интернет", "repost", "social",
    "vkontakte", "comment", "meme", "video", "blog", "online", "internet", "livestream",
)  # fmt: skip
# Whole words only: their beginnings are too common ("постановление", "postponed", "likely").
ONLINE_WORDS = (
    "пост", "поста", "посте", "постом", "посты", "постов", "постах", "вк", "post", "posts",
    "posted", "posting", "like", "likes", "liked",
)  # fmt: skip
PROSECUTION_STEMS = (
    "суд", "штраф", "приговор", "обвин", "задерж", "обыск", "арест", "осуд", "осужд",
    "колони", "экстремизм", "фейк", "дискредит", "прокурор", "следовател", "полиц",
    "court", "fine", "sentenc", "charge", "detain", "arrest", "prosecut", "convict", "extremis",
    "fake", "discredit", "jail", "prison", "colony", "police", "investigat",
)  # fmt: skip
PROSECUTION_WORDS = ("дело", "дела", "деле", "делу", "case", "cases", "searched", "search")


def _rule(stems: tuple[str, ...], words: tuple[str, ...]) -> re.Pattern[str]:
    stem = "|".join(map(re.escape, stems))
    word = "|".join(map(re.escape, words))
    return re.compile(rf"(?:^| )(?:(?:{stem})\S*|(?:{word}))(?= |$)")


_ONLINE = _rule(ONLINE_STEMS, ONLINE_WORDS)
_PROSECUTION = _rule(PROSECUTION_STEMS, PROSECUTION_WORDS)


def keyword_relevant(document: Document) -> bool:
    text = normalise(f"{document.title} {document.text}")
    return bool(_ONLINE.search(text)) and bool(_PROSECUTION.search(text))
