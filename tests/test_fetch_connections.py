"""Connection reuse in the fetcher, against a keep-alive HTTP/1.1 server on loopback that
counts the TCP connections it accepts (pytest-httpserver closes every connection)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from poller.fetch import Fetcher, FetchLimits

LIMITS = FetchLimits(connect_timeout=2, read_timeout=2, total_timeout=5, feed_concurrency=8)


@dataclass
class KeepAliveServer:
    """Answers /feed (ETag "v1"; 304 when If-None-Match matches), /moved (302 to /feed, with
    a body) and /gone (404 with a body), keeping each connection open."""

    port: int = 0
    connections: int = 0
    requests: int = 0
    delay: float = 0.0
    writers: list[asyncio.StreamWriter] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                self.requests += 1
                await asyncio.sleep(self.delay)
                writer.write(self.answer(head.decode("latin-1")))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def answer(self, head: str) -> bytes:
        path = head.split(" ", 2)[1]
        if path == "/moved":
            return _response("302 Found", b"<p>moved</p>", "Location: /feed")
        if path == "/gone":
            return _response("404 Not Found", b"<p>no such feed</p>")
        if 'if-none-match: "v1"' in head.lower():
            return _response("304 Not Modified", b"", 'ETag: "v1"')
        return _response("200 OK", b"<rss version='2.0'><channel/></rss>", 'ETag: "v1"')


def _response(status: str, body: bytes, *headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@pytest.fixture
async def server() -> AsyncIterator[KeepAliveServer]:
    state = KeepAliveServer()
    listener = await asyncio.start_server(state.handle, "127.0.0.1", 0)
    state.port = listener.sockets[0].getsockname()[1]
    yield state
    for writer in state.writers:
        writer.close()
    listener.close()


async def test_a_304_keeps_its_connection_for_the_next_poll(server: KeepAliveServer) -> None:
    url = f"http://127.0.0.1:{server.port}/feed"
    async with Fetcher(LIMITS) as fetcher:
        first = await fetcher.fetch_feed(url)
        results = [await fetcher.fetch_feed(url, etag=first.etag) for _ in range(3)]
    assert first.ok and all(result.not_modified for result in results)
    assert server.requests == 4
    assert server.connections == 1


async def test_redirects_and_error_pages_leave_their_connection_usable(
    server: KeepAliveServer,
) -> None:
    base = f"http://127.0.0.1:{server.port}"
    async with Fetcher(LIMITS) as fetcher:
        moved = await fetcher.fetch_feed(f"{base}/moved")
        gone = await fetcher.fetch_feed(f"{base}/gone")
        again = await fetcher.fetch_feed(f"{base}/feed")
    assert moved.ok and moved.final_url == f"{base}/feed"
    assert gone.status == 404 and gone.error
    assert again.ok
    assert server.requests == 4
    assert server.connections == 1


async def test_concurrent_fetches_never_share_a_connection(server: KeepAliveServer) -> None:
    """Many fetches at once, then again on the now idle connections: each request gets a
    connection of its own, and none is handed to two requests (which would fail one)."""
    server.delay = 0.02
    url = f"http://127.0.0.1:{server.port}/feed"
    async with Fetcher(LIMITS) as fetcher:
        for _ in range(3):
            results = await asyncio.gather(*(fetcher.fetch_feed(url) for _ in range(20)))
            assert all(result.ok for result in results), [r.error for r in results if r.error]
    assert server.requests == 60
    assert server.connections == LIMITS.feed_concurrency
