"""Language detection: seeded, bounded, never raising, the feed's language for scraps."""

from __future__ import annotations

import pytest

from poller.language import declared_language, detect_language

RU = (
    "Ленинский районный суд приговорил жительницу Самары к двум годам колонии-поселения за "
    "репост записи во «ВКонтакте». Следствие посчитало, что публикация оправдывала терроризм. "
    "Сама женщина говорит, что не читала текст, которым поделилась три года назад."
)
EN = (
    "A district court in Samara has sentenced a local woman to two years in a settlement "
    "colony over a repost on VKontakte. Investigators said the post justified terrorism. "
    "The woman says she never read the text she shared three years ago."
)
UK = (
    "Суд у Києві розглянув справу про допис у соціальній мережі. Прокурори вважають, що "
    "публікація закликала до насильства, а захист наполягає, що це була лише цитата з новин."
)


@pytest.mark.parametrize("prior", ["ru", "en"])
def test_long_texts_are_detected_whatever_the_prior(prior: str) -> None:
    assert detect_language(RU, prior=prior) == "ru"
    assert detect_language(EN, prior=prior) == "en"


def test_other_languages_are_reported_as_such() -> None:
    assert detect_language(UK, prior="ru") == "uk"


def test_repeatable() -> None:
    mixed = RU[:150] + " " + EN[:150]
    assert len({detect_language(mixed, prior="en") for _ in range(20)}) == 1


@pytest.mark.parametrize("text", ["", "   ", "12345 678", "!!! ??? ...", "\x00\x01", "🙂🙂🙂"])
@pytest.mark.parametrize("prior", ["ru", "en"])
def test_text_without_letters_gives_the_prior(text: str, prior: str) -> None:
    assert detect_language(text, prior=prior) == prior


def test_short_text_keeps_the_prior_when_the_script_agrees() -> None:
    # "Суд над блогером" could be Bulgarian or Ukrainian to langdetect; the feed says ru.
    assert detect_language("Суд над блогером", prior="ru") == "ru"
    assert detect_language("Court fines a man", prior="en") == "en"
    assert detect_language("Ein Gericht", prior="de") == "de"


def test_short_text_in_the_other_script_follows_the_script() -> None:
    assert detect_language("Суд оштрафовал блогера за репост", prior="en") == "ru"
    assert detect_language("Court fines blogger over a repost", prior="ru") == "en"


def test_short_mixed_script_text_keeps_the_prior() -> None:
    assert detect_language("Meduza: суд и Telegram", prior="en") == "en"


def test_only_a_prefix_is_read() -> None:
    assert detect_language(RU * 12 + EN * 200, prior="en") == "ru"


@pytest.mark.parametrize(
    ("html", "lang"),
    [
        ('<!doctype html><html lang="ru-RU"><head>', "ru"),
        ("<html class='x' lang='en'>", "en"),
        ("<HTML LANG=EN>", "en"),
        ("<html><head>", None),
        (b'<html lang="ru">', "ru"),
    ],
)
def test_declared_language(html: str | bytes, lang: str | None) -> None:
    assert declared_language(html) == lang


DE = (
    "Ein Gericht in Samara hat eine Frau wegen eines Beitrags in einem sozialen Netzwerk zu "
    "zwei Jahren Haft verurteilt. Die Ermittler sagen, der Beitrag habe den Terrorismus "
    "gerechtfertigt; die Frau bestreitet, den Text überhaupt gelesen zu haben."
)
FR = (
    "Un tribunal de Samara a condamné une habitante à deux ans de colonie pour un partage sur "
    "les réseaux sociaux. Selon les enquêteurs, la publication justifiait le terrorisme ; la "
    "femme affirme ne jamais avoir lu le texte qu'elle a partagé il y a trois ans."
)
BG = (
    "Съдът в Самара осъди местна жителка на две години затвор заради споделена публикация в "
    "социалната мрежа. Според разследващите текстът оправдавал тероризма, а жената твърди, "
    "че никога не го е чела и го е споделила преди три години."
)


@pytest.mark.parametrize(("text", "lang"), [(DE, "de"), (FR, "fr"), (BG, "bg"), (UK, "uk")])
def test_languages_without_a_shortcut_go_to_langdetect(text: str, lang: str) -> None:
    assert detect_language(text, prior="ru") == lang
    assert detect_language(text, prior="en") == lang


def test_russian_quoting_a_ukrainian_name_is_still_russian() -> None:
    assert detect_language(RU + " Об этом сообщил адвокат Ігор Мірошниченко.", prior="en") == "ru"
