"""A generated news site for the benchmarks: distinct, varied article pages and their feeds.

Every page starts from one of the page fixtures (tests/fixtures/pages: ten outlets' layouts,
Russian and English, one in windows-1251), gets its article paragraphs rewritten from a bank
of sentences with names, places and numbers drawn per page, a varying number of extra
paragraphs, and 60-240 KB of the weight real pages carry (state scripts, styles, menus).
Feed f lists the pages of one outlet layout, so each feed is one "outlet" in one language.
"""

from __future__ import annotations

import html
import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.extract import _padded
from poller.pages import decode_html

PAGES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "pages"
CP1251_SUFFIX = ".htm"  # bench.server serves these as windows-1251

RU = {
    "city": ["Томска", "Казани", "Самары", "Брянска", "Перми", "Ижевска", "Калуги", "Омска"],
    "court": ["Ленинский районный", "Центральный районный", "Кировский районный", "Мировой"],
    "person": ["местному жителю", "пенсионерке", "студенту", "учительнице", "блогеру"],
    "post": ["репост", "комментарий", "видеоролик", "мем", "пост"],
    "network": ["«ВКонтакте»", "Telegram", "«Одноклассниках»", "YouTube"],
    "source": ["пресс-службы суда", "правозащитников", "адвоката", "местного издания"],
    "good": ["гречку", "бензин", "молоко", "хлеб", "картофель"],
}
RU_SENTENCES = [
    "{court} суд {city} назначил {person} штраф в {n} тысяч рублей за {post} в {network}.",
    "По данным {source}, поводом для дела стал {post}, опубликованный {n} месяцев назад.",
    "Защита намерена обжаловать решение, сообщил адвокат после заседания {day} числа.",
    "Подсудимый вину не признал и заявил, что не знал о содержании публикации.",
    "С начала года в регионе, по подсчетам {source}, возбуждено не менее {n} похожих дел.",
    "Синоптики обещают жителям {city} до {n} градусов тепла в ближайшие выходные.",
    "Администрация {city} объявила о ремонте {n} улиц до конца строительного сезона.",
    "Цены на {good} в магазинах {city} за месяц выросли на {n} процентов.",
    "Заседание длилось около {n} минут, в зал пустили только родственников.",
    "Эксперт, на заключение которого сослался суд, работает в ведомстве с {year} года.",
]
EN = {
    "city": ["Tomsk", "Kazan", "Samara", "Bryansk", "Perm", "Izhevsk", "Kaluga", "Omsk"],
    "court": ["A district court", "A city court", "A military court", "A magistrate"],
    "person": ["a local resident", "a pensioner", "a student", "a teacher", "a blogger"],
    "post": ["repost", "comment", "video", "meme", "post"],
    "network": ["VKontakte", "Telegram", "Odnoklassniki", "YouTube"],
    "source": ["the court's press office", "rights advocates", "the defence", "local media"],
    "good": ["buckwheat", "petrol", "milk", "bread", "potatoes"],
}
EN_SENTENCES = [
    "{court} in {city} fined {person} {n},000 rubles over a {post} on {network}.",
    "According to {source}, the case was opened over a {post} published {n} months ago.",
    "The defence said it would appeal the ruling, filed on the {day}th of the month.",
    "The defendant pleaded not guilty, saying they had not read the post in full.",
    "At least {n} similar cases have been opened in the region this year, {source} say.",
    "Forecasters expect temperatures of up to {n} degrees in {city} this weekend.",
    "City officials in {city} announced repairs to {n} streets before the season ends.",
    "Prices for {good} in {city} shops rose by {n} percent over the month.",
    "The hearing lasted about {n} minutes and only relatives were allowed in.",
    "The expert whose report the court relied on has worked for the agency since {year}.",
]


@dataclass(frozen=True)
class Template:
    name: str
    html: str
    lang: str
    body: tuple[str, ...]  # a snippet of each article paragraph
    cp1251: bool


def templates() -> list[Template]:
    expected = json.loads((PAGES / "expected.json").read_text(encoding="utf-8"))
    found = []
    for name, spec in expected.items():
        if name.startswith("_") or not spec.get("extracted", True) or not spec.get("body"):
            continue
        raw = (PAGES / name).read_bytes()
        found.append(
            Template(
                name=name,
                html=decode_html(raw, None),
                lang=spec["lang"],
                body=tuple(spec["body"]),
                cp1251="cp1251" in name,
            )
        )
    return found


def paragraph(rng: random.Random, lang: str) -> str:
    words, sentences = (RU, RU_SENTENCES) if lang == "ru" else (EN, EN_SENTENCES)
    chosen = rng.sample(sentences, rng.randint(2, 4))
    values = {key: rng.choice(options) for key, options in words.items()}
    return " ".join(
        sentence.format(
            n=rng.randint(2, 95), day=rng.randint(1, 28), year=rng.randint(1998, 2023), **values
        )
        for sentence in chosen
    )


def article_page(template: Template, number: int, rng: random.Random, pad_kb: int) -> str:
    """The template with its paragraphs rewritten, extra ones added, and padding."""
    page = template.html
    last_end = -1
    for snippet in template.body:
        at = page.find(snippet)
        start = page.rfind("<p", 0, at)
        end = page.find("</p>", at)
        if at < 0 or start < 0 or end < 0 or page.rfind("</p>", 0, at) > start:
            continue
        opening = page[start : page.find(">", start) + 1]
        text = html.escape(paragraph(rng, template.lang), quote=False)
        page = page[:start] + opening + text + page[end:]
        last_end = page.find("</p>", start) + len("</p>")
    if last_end > 0:
        extra = "".join(
            f"<p>{html.escape(paragraph(rng, template.lang), quote=False)}</p>"
            for _ in range(rng.randint(0, 6))
        )
        marker = f"<p>{'Материал' if template.lang == 'ru' else 'Story'} {number}.</p>"
        page = page[:last_end] + extra + marker + page[last_end:]
    return _padded(page, pad_kb)


@dataclass(frozen=True)
class Site:
    root: Path
    feeds: list[tuple[str, str, str]]  # (name, path, language)
    pages: list[bytes]  # as served
    texts: list[str]  # as decoded, for the bare-trafilatura baseline


def write_site(root: Path, pages: int, feeds: int, pad_kb: int, seed: int = 7) -> Site:
    """Write `pages` pages under root/p/ and `feeds` RSS feeds listing them."""
    layouts = templates()
    (root / "p").mkdir(parents=True)
    rng = random.Random(seed)
    bodies, texts, paths = [], [], []
    for number in range(pages):
        template = layouts[(number % feeds) % len(layouts)]
        weight = max(0, int(rng.uniform(0.4, 1.6) * pad_kb))
        text = article_page(template, number, rng, weight)
        if template.cp1251:
            body = text.encode("cp1251", "xmlcharrefreplace")
            path = f"p/{number}{CP1251_SUFFIX}"
        else:
            body = text.encode("utf-8")
            path = f"p/{number}.html"
        (root / path).write_bytes(body)
        bodies.append(body)
        texts.append(text)
        paths.append(path)
    specs = []
    published = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    for feed in range(feeds):
        template = layouts[feed % len(layouts)]
        items = []
        for number in range(feed, pages, feeds):
            when = published - timedelta(minutes=number)
            title = paragraph(random.Random(number), template.lang).split(". ")[0]
            items.append(
                f"<item><title>{html.escape(title)}</title><link>/{paths[number]}</link>"
                f"<guid>bench-{number}</guid>"
                f"<description>{html.escape(title)}.</description>"
                f"<pubDate>{when.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate></item>"
            )
        rss = (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Outlet {feed}</title><link>/</link><description>News</description>"
            f"{''.join(items)}</channel></rss>"
        )
        (root / f"feed-{feed}.xml").write_text(rss, encoding="utf-8")
        specs.append((f"outlet-{feed:02}", f"feed-{feed}.xml", template.lang))
    return Site(root, specs, bodies, texts)
