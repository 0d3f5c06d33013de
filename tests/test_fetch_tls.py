"""HTTPS in the fetcher, against TLS servers on loopback whose certificates are in
tests/fixtures/tls: certificates are verified (authority and host name), failures are data,
and connections are kept alive as over plain HTTP."""

from __future__ import annotations

import asyncio
import gzip
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from poller.fetch import Fetcher, FetchLimits
from tests.conftest import FIXTURES

TLS = FIXTURES / "tls"
LIMITS = FetchLimits(connect_timeout=1, read_timeout=1, total_timeout=5, max_bytes=4 * 1024 * 1024)
FEED = b"<rss version='2.0'><channel><title>Lenta</title></channel></rss>"
LARGE = b"<rss version='2.0'><channel>" + b"<item><title>x</title></item>" * 100_000 + b"</rss>"


@pytest.fixture(autouse=True)
def trust_the_test_ca(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fetcher trusts what httpx trusts: SSL_CERT_FILE, here the test authority only."""
    monkeypatch.setenv("SSL_CERT_FILE", str(TLS / "ca.pem"))


@dataclass
class TlsServer:
    """Answers /feed (ETag "v1"; 304 when If-None-Match matches), /large (3 MB) and /gzip,
    keeping each connection open; counts connections and requests."""

    port: int = 0
    connections: int = 0
    requests: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                self.requests += 1
                writer.write(self.answer(head.decode("latin-1")))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    def answer(self, head: str) -> bytes:
        path = head.split(" ", 2)[1]
        if path == "/large":
            return _response("200 OK", LARGE)
        if path == "/gzip":
            return _response("200 OK", gzip.compress(LARGE), "Content-Encoding: gzip")
        if 'if-none-match: "v1"' in head.lower():
            return _response("304 Not Modified", b"", 'ETag: "v1"')
        return _response("200 OK", FEED, 'ETag: "v1"')


def _response(status: str, body: bytes, *headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _server_context(name: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(TLS / f"{name}-server.pem")
    return context


async def _serve(
    handle: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
    tls: ssl.SSLContext | None,
) -> tuple[asyncio.Server, int]:
    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls)
    return server, server.sockets[0].getsockname()[1]


@pytest.fixture
async def loopback() -> AsyncIterator[TlsServer]:
    state = TlsServer()
    server, state.port = await _serve(state.handle, _server_context("loopback"))
    yield state
    server.close()


async def test_an_https_feed_is_fetched_and_its_304s_reuse_the_connection(
    loopback: TlsServer,
) -> None:
    url = f"https://127.0.0.1:{loopback.port}/feed"
    async with Fetcher(LIMITS) as fetcher:
        first = await fetcher.fetch_feed(url)
        again = [await fetcher.fetch_feed(url, etag=first.etag) for _ in range(3)]
    assert first.ok and first.body == FEED and first.etag == '"v1"'
    assert all(result.not_modified for result in again)
    assert (loopback.connections, loopback.requests) == (1, 4)


async def test_the_host_name_is_checked_against_the_certificate(loopback: TlsServer) -> None:
    """localhost is in the certificate; it may resolve to ::1 first, where nothing listens."""
    async with Fetcher(LIMITS) as fetcher:
        result = await fetcher.fetch_feed(f"https://localhost:{loopback.port}/feed")
    assert result.ok and result.body == FEED


async def test_large_and_compressed_bodies_arrive_whole_over_tls(loopback: TlsServer) -> None:
    base = f"https://127.0.0.1:{loopback.port}"
    async with Fetcher(LIMITS) as fetcher:
        large = await fetcher.fetch_feed(f"{base}/large")
        packed = await fetcher.fetch_feed(f"{base}/gzip")
    async with Fetcher(FetchLimits(max_bytes=1024 * 1024)) as fetcher:
        capped = await fetcher.fetch_feed(f"{base}/large")
    assert large.body == LARGE and packed.body == LARGE
    assert capped.error == f"body over 1 MB cap from {base}/large"


@pytest.mark.parametrize(
    ("certificate", "why"),
    [
        ("untrusted", "self-signed certificate"),
        ("elsewhere", "IP address mismatch"),
    ],
)
async def test_a_certificate_that_does_not_verify_is_refused(certificate: str, why: str) -> None:
    state = TlsServer()
    server, state.port = await _serve(state.handle, _server_context(certificate))
    url = f"https://127.0.0.1:{state.port}/feed"
    try:
        async with Fetcher(LIMITS) as fetcher:
            result = await fetcher.fetch_feed(url)
    finally:
        server.close()
    assert result.error.startswith(f"cannot connect to {url}: [SSL: CERTIFICATE_VERIFY_FAILED]")
    assert why in result.error
    assert state.requests == 0  # nothing was sent to the impostor


async def test_a_server_that_never_finishes_the_handshake_is_a_connect_timeout() -> None:
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # reads the ClientHello into its buffer and never answers

    server, port = await _serve(hold, None)
    url = f"https://127.0.0.1:{port}/feed"
    try:
        async with Fetcher(LIMITS) as fetcher:
            result = await fetcher.fetch_feed(url)
    finally:
        for writer in held:
            writer.close()
        server.close()
    assert result.error == f"timed out after 1 s connecting to {url}"


async def test_plain_http_on_an_https_address_is_an_error() -> None:
    async def plain(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(_response("400 Bad Request", b"plain HTTP here"))
        await writer.drain()
        writer.close()

    server, port = await _serve(plain, None)
    url = f"https://127.0.0.1:{port}/feed"
    try:
        async with Fetcher(LIMITS) as fetcher:
            result = await fetcher.fetch_feed(url)
    finally:
        server.close()
    assert result.error.startswith(f"cannot connect to {url}: [SSL")
