"""A loopback news site for crash tests and the soak: many feeds, one page per item.

Feeds honour ETag/If-None-Match like real outlets (so a restarted poller sends validators, and
a validator stored too early would lose articles), and pages are served after a short delay
so a poll lasts long enough to be killed in the middle of it.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass

from werkzeug import Request, Response

_FEED = re.compile(r"^/feeds/(\d+)\.xml$")
_PAGE = re.compile(r"^/news/(\d+)/(\d+)$")

CITIES = ("Казани", "Томске", "Самаре", "Перми", "Уфе", "Саратове", "Пензе", "Ижевске")
PLATFORMS = ("во «ВКонтакте»", "в телеграм-канале", "в «Одноклассниках»", "на YouTube")


@dataclass(frozen=True)
class Item:
    feed: int
    number: int

    @property
    def path(self) -> str:
        return f"/news/{self.feed}/{self.number}"

    @property
    def title(self) -> str:
        city = CITIES[(self.feed + self.number) % len(CITIES)]
        return f"Суд в {city} рассмотрел дело о публикации №{self.feed}-{self.number}"

    def page(self) -> bytes:
        city = CITIES[(self.feed + self.number) % len(CITIES)]
        platform = PLATFORMS[self.number % len(PLATFORMS)]
        paragraphs = [
            f"Районный суд в {city} рассмотрел дело жителя города, который опубликовал "
            f"запись {platform}. Номер дела в картотеке — {self.feed}-{self.number}.",
            f"По версии обвинения, публикация №{self.number} «дискредитировала» армию. "
            "Защита настаивала, что автор лишь пересказал новости из открытых источников.",
            f"Суд назначил штраф {30 + self.number % 20} тысяч рублей. Адвокат сообщил, "
            "что решение будет обжаловано в апелляционной инстанции в течение десяти дней.",
            "Правозащитники отмечают, что подобные дела в регионе возбуждают всё чаще: "
            "поводом становятся репосты, комментарии и даже отметки «нравится».",
        ]
        body = "".join(f"<p>{text}</p>" for text in paragraphs)
        return (
            "<!DOCTYPE html><html lang='ru'><head><meta charset='utf-8'>"
            f"<title>{self.title}</title></head><body><nav><a href='/'>Главная</a></nav>"
            f"<article><h1>{self.title}</h1>{body}</article>"
            "<footer>© Приволжский вестник</footer></body></html>"
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
            f"<guid>{self.base}{item.path}</guid><description>Кратко: {item.title}.</description>"
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
