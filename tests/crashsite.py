"""A loopback news site for crash tests: many feeds, one page per item.

Feeds honour ETag/If-None-Match like real outlets (so a restarted poller sends validators, and
a validator stored too early would lose articles), and pages are served after a short delay
so a poll lasts long enough to be killed in the middle of it. Feeds come in twins: feed 2k+1
reports the same events as feed 2k, in its own headline over the same agency copy, so the
two reports of an event belong in one story. Every event is a different case: another
person, city, charge and penalty.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass

from werkzeug import Request, Response

_FEED = re.compile(r"^/feeds/(\d+)\.xml$")
_PAGE = re.compile(r"^/news/(\d+)/(\d+)$")

CITIES = (
    "Казани", "Томске", "Самаре", "Перми", "Уфе", "Саратове", "Пензе", "Ижевске", "Омске",
    "Твери", "Курске", "Иркутске", "Барнауле",
)  # fmt: skip
FIRST = ("Алексей", "Марина", "Игорь", "Светлана", "Денис", "Ольга", "Руслан", "Анна", "Виктор")
LAST = (
    "Гаврилов", "Лаптев", "Сорокин", "Белоусов", "Кочетков", "Мухин", "Зайцев", "Ершов",
    "Тарасов", "Фомин", "Крылов", "Носков", "Шилов", "Рябов", "Щукин", "Лыков", "Жуков",
)  # fmt: skip
CHARGES = (
    ("статье 207.3 УК о «фейках» об армии", "лет колонии"),
    ("статье 280.3 УК о «дискредитации» армии", "лет условно"),
    ("статье 205.2 УК об оправдании терроризма", "лет колонии"),
    ("статье 20.3.3 КоАП о «дискредитации»", "тысяч рублей штрафа"),
)
PLATFORMS = ("во «ВКонтакте»", "в телеграм-канале", "в «Одноклассниках»", "на YouTube")


@dataclass(frozen=True)
class Item:
    feed: int
    number: int

    @property
    def path(self) -> str:
        return f"/news/{self.feed}/{self.number}"

    @property
    def event(self) -> int:
        """Twin feeds (2k, 2k+1) report the same events."""
        return (self.feed // 2) * 1000 + self.number

    def _facts(self) -> tuple[str, str, str, str, str, int]:
        event = self.event
        serial = (self.feed // 2) * 37 + self.number
        person = f"{FIRST[serial % len(FIRST)]} {LAST[serial % len(LAST)]}"
        city = CITIES[serial % len(CITIES)]
        charge, penalty = CHARGES[serial % len(CHARGES)]
        platform = PLATFORMS[serial % len(PLATFORMS)]
        amount = 2 + event % 7 if "лет" in penalty else 30 + event % 40
        return person, city, charge, penalty, platform, amount

    @property
    def title(self) -> str:
        person, city, _, penalty, platform, amount = self._facts()
        if self.feed % 2:
            return f"{person} из {city} получил {amount} {penalty} за пост {platform}"
        return f"Суд в {city} назначил {person} {amount} {penalty} за публикацию {platform}"

    def page(self) -> bytes:
        person, city, charge, penalty, platform, amount = self._facts()
        paragraphs = [
            f"Суд в {city} признал {person} виновным по {charge}. Поводом стала запись "
            f"{platform}, опубликованная в прошлом году.",
            f"Обвинение запросило для {person} {amount + 1} {penalty}; суд назначил "
            f"{amount} {penalty}. Защита намерена обжаловать приговор.",
            f"По словам адвоката, {person} удалил запись сразу после звонка из полиции, "
            "но дело всё равно передали в суд.",
            f"Правозащитники знают о нескольких похожих делах в {city} за последний год.",
        ]
        body = "".join(f"<p>{text}</p>" for text in paragraphs)
        outlet = "Волжские новости" if self.feed % 2 else "Приволжский вестник"
        return (
            "<!DOCTYPE html><html lang='ru'><head><meta charset='utf-8'>"
            f"<title>{self.title}</title></head><body><nav><a href='/'>{outlet}</a></nav>"
            f"<article><h1>{self.title}</h1>{body}</article>"
            f"<footer>© {outlet}</footer></body></html>"
        ).encode()


class NewsSite:
    """`feeds` feeds of `items` items each, at /feeds/<n>.xml, pages at /news/<n>/<m>."""

    def __init__(self, base: str, feeds: int, items: int, page_delay: float = 0.0) -> None:
        self.base = base
        self.feeds = feeds
        self.items = items
        self.page_delay = page_delay

    def all_items(self) -> list[Item]:
        return [Item(feed, number) for feed in range(self.feeds) for number in range(self.items)]

    def feed_urls(self) -> list[str]:
        return [f"{self.base}/feeds/{feed}.xml" for feed in range(self.feeds)]

    def feeds_yaml(self) -> str:
        lines = ["feeds:"]
        for feed, url in enumerate(self.feed_urls()):
            lines.append(f'  - {{name: outlet-{feed}, url: "{url}", language: ru, interval: 10m}}')
        return "\n".join(lines) + "\n"

    def feed(self, feed: int, items: list[Item]) -> bytes:
        entries = "".join(
            f"<item><title>{item.title}</title><link>{self.base}{item.path}</link>"
            f"<guid>{self.base}{item.path}</guid><description>{item.title}.</description>"
            "<pubDate>Fri, 20 Nov 2026 12:00:00 +0300</pubDate></item>"
            for item in items
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Outlet {feed}</title><link>{self.base}/</link>{entries}</channel></rss>"
        ).encode()

    def handle(self, request: Request) -> Response:
        if match := _FEED.match(request.path):
            feed = int(match.group(1))
            items = [Item(feed, number) for number in range(self.items)]
            return conditional(request, self.feed(feed, items), "application/rss+xml")
        if match := _PAGE.match(request.path):
            if self.page_delay:
                time.sleep(self.page_delay)
            item = Item(int(match.group(1)), int(match.group(2)))
            return Response(item.page(), content_type="text/html; charset=utf-8")
        return Response("not found", status=404)


def conditional(request: Request, body: bytes, content_type: str) -> Response:
    """200 with an ETag, or 304 when the client already has this body."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
    if request.headers.get("If-None-Match") == etag:
        return Response(status=304, headers={"ETag": etag})
    return Response(body, content_type=content_type, headers={"ETag": etag})
