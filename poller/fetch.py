"""Safe HTTP fetching on httpx: every failure comes back as data, never as an exception.

Feed URLs come from feeds.yaml and are trusted, and so is their host wherever it is (a feed
mirror on your own network works). Links taken from feed items are not: their connections go
through `GuardedBackend`, which resolves the host itself, refuses it when any of its
addresses is loopback, private, link-local, CGNAT, multicast, reserved or a cloud metadata
address, and then connects to the address it checked (so a DNS answer cannot change between
the check and the connection). Redirects are followed here, hop by hop, so each hop meets
the same checks. A feed's redirect is trusted only while it stays on the feed's own host:
a hop to another host is guarded like an item link, so a public feed cannot redirect the
poller into the private network. Bodies are decompressed here too, in bounded steps, so the
size cap counts decoded bytes and a gzip bomb stops at the cap instead of filling memory.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import socket
import ssl
import time
import zlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx
from httpcore import AsyncNetworkBackend, AsyncNetworkStream

from poller.netio import AsyncioBackend

USER_AGENT = "RepostWatch/0.1 (news monitor; +https://github.com/repostwatch/repostwatch)"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
CGNAT = ipaddress.ip_network("100.64.0.0/10")
_FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
_PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
_DRAIN_LIMIT = 64 * 1024  # bytes of an unused body read to keep its connection alive
# What httpcore raises for a failed exchange (httpx raised the same under its own names).
HTTP_ERRORS = (
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
    httpcore.ProxyError,
)


@dataclass(frozen=True)
class FetchLimits:
    connect_timeout: float = 10.0
    read_timeout: float = 10.0
    total_timeout: float = 30.0
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    feed_concurrency: int = 256
    page_concurrency: int = 16
    user_agent: str = USER_AGENT


@dataclass(frozen=True)
class FetchResult:
    """One fetch: the body on success, or `error` saying what went wrong and where."""

    url: str
    final_url: str
    status: int | None = None
    body: bytes = b""
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300

    @property
    def not_modified(self) -> bool:
        return self.error is None and self.status == 304


class FetchFailed(Exception):
    """Internal: carries the message of a failed fetch up to `Fetcher._fetch`."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AddressRefused(Exception):
    """A link resolved to an address that item links may not reach."""


def refusal_reason(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why links may not reach this address, or None when it is a public address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES:
        return "metadata"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv4Address) and address in CGNAT:
        return "CGNAT"
    if address.is_unspecified:
        return "unspecified"
    if address.is_private:
        return "private"
    if address.is_reserved or not address.is_global:
        return "reserved"
    return None


class GuardedBackend(AsyncNetworkBackend):
    """httpcore network backend that connects only to addresses item links may reach."""

    def __init__(self, inner: AsyncNetworkBackend | None = None) -> None:
        self.inner = inner or AsyncioBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable | None = None,
    ) -> AsyncNetworkStream:
        addresses = await _resolve(host, port, timeout)
        for address in addresses:
            reason = refusal_reason(address)
            if reason:
                raise AddressRefused(f"refused: link points to {reason} address {address}")
        last_error: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                last_error = error
        assert last_error is not None
        raise last_error

    async def connect_unix_socket(self, path: str, timeout=None, socket_options=None):
        raise AddressRefused("refused: unix sockets are not fetched")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


async def _resolve(
    host: str, port: int, timeout: float | None
) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError:
        raise httpcore.ConnectTimeout(f"resolving {host} timed out") from None
    except OSError as error:
        raise httpcore.ConnectError(f"cannot resolve {host}: {error.strerror or error}") from None
    addresses = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise httpcore.ConnectError(f"cannot resolve {host}: no addresses")
    return addresses


class _LeanPool(httpcore.AsyncConnectionPool):
    """httpcore's connection pool, with request assignment that stays cheap at hundreds of
    connections.

    httpcore 1.0 re-checks every pooled connection for expiry (a poll() and a getpeername()
    system call each) and counts the connections once per idle connection, on every request
    sent and every response closed: quadratic in the connections, and most of the CPU a
    300-feed poll spent. Here a connection is checked for expiry when it is about to be
    reused, and the whole pool is swept at most once a second; the rules are httpcore's.
    """

    SWEEP_SECONDS = 1.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._next_sweep = 0.0

    def _assign_requests_to_connections(self) -> list[Any]:
        closing: list[Any] = []
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self.SWEEP_SECONDS
            self._sweep(closing)
        queued = [request for request in self._requests if request.connection is None]
        if not queued:
            return closing
        # An HTTP/1.1 connection serves one request at a time: one already handed to a
        # request stays reserved until that request leaves the pool, even while still idle.
        taken = {
            id(request.connection) for request in self._requests if request.connection is not None
        }
        for pool_request in queued:
            origin = pool_request.request.url.origin
            connection = self._reusable(origin, taken, closing)
            if connection is None:
                if not self._make_room(taken, closing):
                    break  # every connection is busy: the rest wait for one to be released
                connection = self.create_connection(origin)
                self._connections.append(connection)
            taken.add(id(connection))
            pool_request.assign_to_connection(connection)
        return closing

    def _sweep(self, closing: list[Any]) -> None:
        """Drop closed connections, close expired ones and idle ones over the keep-alive limit."""
        kept = []
        for connection in self._connections:
            if connection.is_closed():
                continue
            if connection.has_expired():
                closing.append(connection)
            else:
                kept.append(connection)
        surplus = len(kept) - self._max_keepalive_connections
        if surplus > 0:
            idle = [connection for connection in kept if connection.is_idle()][:surplus]
            closing.extend(idle)
            kept = [connection for connection in kept if connection not in idle]
        self._connections = kept

    def _reusable(self, origin: httpcore.Origin, taken: set[int], closing: list[Any]) -> Any:
        """An idle, unexpired connection to `origin` that no request holds, or None."""
        for connection in list(self._connections):
            if id(connection) in taken or not connection.can_handle_request(origin):
                continue
            if not connection.is_available():
                continue
            if connection.has_expired():
                self._connections.remove(connection)
                closing.append(connection)
                continue
            return connection
        return None

    async def _close_connections(self, closing: list[Any]) -> None:
        # httpcore opens an anyio cancel scope around this on every request sent and every
        # response closed, nearly always to close nothing (a twentieth of a 304's CPU).
        if closing:
            await super()._close_connections(closing)

    def _make_room(self, taken: set[int], closing: list[Any]) -> bool:
        """Whether a new connection fits, closing an idle one to make room if need be."""
        if len(self._connections) < self._max_connections:
            return True
        self._sweep(closing)
        if len(self._connections) < self._max_connections:
            return True
        for connection in self._connections:
            if id(connection) not in taken and connection.is_idle():
                self._connections.remove(connection)
                closing.append(connection)
                return True
        return False


class _Response:
    """What the fetcher reads of a response: status, headers (decoded as httpx decodes
    them), the raw body once, and closing."""

    def __init__(self, response: httpcore.Response) -> None:
        self.status_code = response.status
        self.headers = httpx.Headers(response.headers)
        self.is_stream_consumed = False
        self._response = response

    async def aiter_raw(self) -> AsyncIterator[bytes]:
        self.is_stream_consumed = True
        async for chunk in self._response.aiter_stream():
            yield chunk

    async def aclose(self) -> None:
        await self._response.aclose()


class _Client:
    """One GET at a time on an httpcore pool, with default headers, timeouts and cookies.

    This is httpx's own engine without httpx's layers around it. The fetcher follows
    redirects, times out and reads bodies itself, so httpx.AsyncClient's layers went unused,
    and building httpx's request and response objects (URL parsing, header normalising, a
    urllib request for the cookie jar to scan every response) was a fifth of a 304's CPU.
    What httpx did still holds: the same request headers (Host, and Basic auth from
    credentials in the URL), response headers decoded by httpx, a cookie jar per client,
    consulted only when it holds cookies or a response sets one. The pool is `_LeanPool` on
    asyncio streams (poller.netio), with `GuardedBackend` for untrusted links; no proxy from
    the environment is used.
    """

    TARGETS_KEPT = 4096

    def __init__(
        self,
        limits: httpx.Limits,
        tls: ssl.SSLContext,
        headers: dict[str, str],
        timeout: httpx.Timeout,
        *,
        guarded: bool,
        keep_targets: bool = False,
    ) -> None:
        self.pool = _LeanPool(
            ssl_context=tls,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend() if guarded else AsyncioBackend(),
        )
        self.headers = headers
        self.extensions = {"timeout": timeout.as_dict()}
        self.cookies = httpx.Cookies()
        self._targets: dict[str, _Target] | None = {} if keep_targets else None

    async def get(self, url: str, headers: dict[str, str]) -> _Response:
        """Send a GET; the response is streamed: read it, then close it."""
        target = self._target(url)
        fields = {**self.headers, **headers}
        if self.cookies:
            cookie = _cookie_header(self.cookies, target.url)
            if cookie:
                fields["Cookie"] = cookie
        raw_headers = [(b"Host", target.host)]
        if target.authorization:
            raw_headers.append((b"Authorization", target.authorization))
        raw_headers += [
            (name.encode("ascii"), value.encode("ascii")) for name, value in fields.items()
        ]
        request = httpcore.Request(
            b"GET", target.core, headers=raw_headers, extensions=self.extensions
        )
        response = _Response(await self.pool.handle_async_request(request))
        if "set-cookie" in response.headers:
            _take_cookies(self.cookies, target.url, response)
        return response

    async def aclose(self) -> None:
        await self.pool.aclose()

    def _target(self, url: str) -> _Target:
        """Where a URL points, remembered when asked to: feeds are fetched at the same URLs
        poll after poll, and httpx's URL parser is the dearest part of building a request."""
        if self._targets is None:
            return _Target.of(url)
        target = self._targets.get(url)
        if target is None:
            if len(self._targets) >= self.TARGETS_KEPT:
                self._targets.clear()
            target = self._targets[url] = _Target.of(url)
        return target


@dataclass(frozen=True)
class _Target:
    url: httpx.URL  # parsed, normalised as httpx does (IDNA hosts, percent-encoded paths)
    core: httpcore.URL
    host: bytes  # the Host header httpx sends
    authorization: bytes | None  # Basic credentials from the URL's user info, as httpx sent

    @classmethod
    def of(cls, url: str) -> _Target:
        parsed = httpx.URL(url)
        core = httpcore.URL(
            scheme=parsed.raw_scheme,
            host=parsed.raw_host,
            port=parsed.port,
            target=parsed.raw_path,
        )
        authorization = None
        if parsed.username or parsed.password:
            userpass = f"{parsed.username}:{parsed.password}".encode()
            authorization = b"Basic " + base64.b64encode(userpass)
        return cls(parsed, core, parsed.netloc, authorization)


def _cookie_header(cookies: httpx.Cookies, url: httpx.URL) -> str | None:
    probe = httpx.Request("GET", url)
    cookies.set_cookie_header(probe)
    return probe.headers.get("Cookie")


def _take_cookies(cookies: httpx.Cookies, url: httpx.URL, response: _Response) -> None:
    cookies.extract_cookies(
        httpx.Response(
            response.status_code, headers=response.headers, request=httpx.Request("GET", url)
        )
    )


class Fetcher:
    """Fetches feeds (trusted) and item pages (guarded) with shared limits.

    Use as `async with Fetcher(limits) as fetcher:`.
    """

    def __init__(self, limits: FetchLimits | None = None, *, allow_private_links: bool = False):
        self.limits = limits or FetchLimits()
        self.allow_private_links = allow_private_links
        timeout = httpx.Timeout(
            connect=self.limits.connect_timeout,
            read=self.limits.read_timeout,
            write=self.limits.read_timeout,
            pool=self.limits.total_timeout,
        )
        headers = {  # httpx.AsyncClient's defaults, with our agent and codings
            "Accept": "*/*",
            "Accept-Encoding": "gzip, deflate",
            "Connection": "keep-alive",
            "User-Agent": self.limits.user_agent,
        }
        # Keep every connection alive between polls: reconnecting dominates a 304's cost.
        feed_limits = httpx.Limits(
            max_connections=self.limits.feed_concurrency,
            max_keepalive_connections=self.limits.feed_concurrency,
        )
        page_limits = httpx.Limits(
            max_connections=self.limits.page_concurrency,
            max_keepalive_connections=self.limits.page_concurrency,
        )
        tls = httpx.create_ssl_context()  # one for all: each holds its own copy of the CAs
        self._feeds = _Client(feed_limits, tls, headers, timeout, guarded=False, keep_targets=True)
        self._pages = _Client(page_limits, tls, headers, timeout, guarded=not allow_private_links)
        self._feed_slots = asyncio.Semaphore(self.limits.feed_concurrency)
        self._page_slots = asyncio.Semaphore(self.limits.page_concurrency)

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._feeds.aclose()
        await self._pages.aclose()

    async def fetch_feed(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """GET a feed, conditionally when validators are known; a 304 has an empty body."""
        headers = {"Accept": _FEED_ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        async with self._feed_slots:
            return await self._fetch(self._feeds, url, headers, off_host=self._pages)

    async def fetch_page(self, url: str) -> FetchResult:
        """GET an item's page; its address must pass the guard unless private links are allowed."""
        async with self._page_slots:
            return await self._fetch(self._pages, url, {"Accept": _PAGE_ACCEPT})

    async def _fetch(
        self,
        client: _Client,
        url: str,
        headers: dict,
        *,
        off_host: _Client | None = None,
    ) -> FetchResult:
        """GET with `client`; redirect hops to another host go through `off_host` if given."""
        started = time.perf_counter()
        final_url = url
        try:
            async with asyncio.timeout(self.limits.total_timeout):
                result = await self._follow(client, url, headers, off_host)
        except TimeoutError:
            message = f"timed out after {_secs(self.limits.total_timeout)} in total fetching {url}"
            result = FetchResult(url=url, final_url=final_url, error=message)
        except FetchFailed as failure:
            result = FetchResult(url=url, final_url=url, status=failure.status, error=str(failure))
        except Exception as error:  # a hostile server must not take the poller down
            message = f"unexpected {type(error).__name__} fetching {url}: {error}"
            result = FetchResult(url=url, final_url=url, error=message)
        return _with_seconds(result, time.perf_counter() - started)

    async def _follow(
        self,
        client: _Client,
        url: str,
        headers: dict,
        off_host: _Client | None,
    ) -> FetchResult:
        current = url
        for _hop in range(self.limits.max_redirects + 1):
            _check_scheme(current)
            hop_client = client if off_host is None or _same_host(current, url) else off_host
            try:
                response = await hop_client.get(current, headers)
            except AddressRefused as refused:
                via = f", redirected from {url}" if current != url else ""
                raise FetchFailed(f"{refused} ({current}{via})") from None
            except HTTP_ERRORS as error:
                raise FetchFailed(self._describe(error, current)) from None
            try:
                if response.status_code in REDIRECT_STATUSES:
                    location = response.headers.get("Location")
                    if not location:
                        raise FetchFailed(
                            f"HTTP {response.status_code} without a Location from {current}",
                            response.status_code,
                        )
                    current = urljoin(current, location.strip())
                    continue
                return await self._read(response, url, current)
            finally:
                await _release(response)
        raise FetchFailed(f"too many redirects (over {self.limits.max_redirects}) from {url}")

    async def _read(self, response: _Response, url: str, final_url: str) -> FetchResult:
        status = response.status_code
        validators = dict(
            etag=response.headers.get("ETag"), last_modified=response.headers.get("Last-Modified")
        )
        if status == 304:
            return FetchResult(url=url, final_url=final_url, status=304, **validators)
        if not 200 <= status < 300:
            raise FetchFailed(f"HTTP {status} from {final_url}", status)
        body = await self._read_body(response, final_url)
        return FetchResult(
            url=url,
            final_url=final_url,
            status=status,
            body=body,
            content_type=response.headers.get("Content-Type"),
            **validators,
        )

    async def _read_body(self, response: _Response, url: str) -> bytes:
        cap = self.limits.max_bytes
        decoder = _Decoder(response.headers.get("Content-Encoding", ""), cap, url)
        parts: list[bytes] = []
        try:
            async for raw in response.aiter_raw():
                parts.append(decoder.decode(raw))
            parts.append(decoder.flush())
        except HTTP_ERRORS as error:
            raise FetchFailed(self._describe(error, url), response.status_code) from None
        return b"".join(parts)

    def _describe(self, error: Exception, url: str) -> str:
        if isinstance(error, httpcore.ConnectTimeout):
            return f"timed out after {_secs(self.limits.connect_timeout)} connecting to {url}"
        if isinstance(error, httpcore.ReadTimeout):
            return f"timed out after {_secs(self.limits.read_timeout)} reading {url}"
        if isinstance(error, httpcore.TimeoutException):
            return f"timed out fetching {url}"
        if isinstance(error, httpcore.ConnectError):
            return f"cannot connect to {url}: {error}"
        if isinstance(error, httpcore.RemoteProtocolError):
            return f"broken HTTP response from {url}: {error}"
        if isinstance(error, httpcore.ReadError | httpcore.WriteError):
            return f"connection broken with {url}: {error or 'reset by the server'}"
        return f"{type(error).__name__} fetching {url}: {error}"


class _Decoder:
    """Undo Content-Encoding in bounded steps; stop as soon as the decoded size passes the cap."""

    def __init__(self, encoding: str, cap: int, url: str) -> None:
        codings = [part.strip().lower() for part in encoding.split(",") if part.strip()]
        codings = [coding for coding in codings if coding != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise FetchFailed(f"unsupported content encoding {encoding!r} from {url}")
        self.coding = codings[0] if codings else None
        self.cap = cap
        self.url = url
        self.size = 0
        self._zlib = None
        if self.coding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif self.coding == "deflate":
            self._zlib = zlib.decompressobj()
        self._deflate_checked = self.coding != "deflate"

    def decode(self, raw: bytes) -> bytes:
        if self._zlib is None:
            return self._count(raw)
        if not self._deflate_checked:
            self._deflate_checked = True
            if raw and (raw[0] & 0x0F) != 8:  # no zlib header: raw deflate, as some servers send
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            # Ask for one byte more than the room left: getting it means the cap is passed,
            # and the bomb never expands further than that.
            out = self._zlib.decompress(raw, self.cap - self.size + 1)
        except zlib.error as error:
            raise FetchFailed(f"corrupt {self.coding} body from {self.url}: {error}") from None
        return self._count(out)

    def flush(self) -> bytes:
        if self._zlib is None:
            return b""
        try:
            return self._count(self._zlib.flush())
        except zlib.error as error:
            raise FetchFailed(f"corrupt {self.coding} body from {self.url}: {error}") from None

    def _count(self, data: bytes) -> bytes:
        self.size += len(data)
        if self.size > self.cap:
            raise FetchFailed(f"body over {_size(self.cap)} cap from {self.url}")
        return data


async def _release(response: _Response) -> None:
    """Close a response, first reading what is left of a small unread body (a 304's, a
    redirect's, an error page's) so its connection can be kept alive for the next request."""
    if not response.is_stream_consumed:
        left = _DRAIN_LIMIT
        try:
            async for raw in response.aiter_raw():
                left -= len(raw)
                if left < 0:
                    break  # not worth reading on: the connection is closed instead
        except HTTP_ERRORS:
            pass  # the request itself succeeded; only the connection is lost
    await response.aclose()


def _check_scheme(url: str) -> None:
    try:
        parts = urlsplit(url)
    except ValueError:
        raise FetchFailed(f"refused: malformed address {url!r}") from None
    if parts.scheme not in ("http", "https"):
        raise FetchFailed(f"refused: {parts.scheme or 'relative'} address {url!r} is not http(s)")
    if not parts.hostname:
        raise FetchFailed(f"refused: address without a host {url!r}")


def _same_host(url: str, other: str) -> bool:
    return (urlsplit(url).hostname or "") == (urlsplit(other).hostname or "")


def _with_seconds(result: FetchResult, seconds: float) -> FetchResult:
    return replace(result, seconds=seconds)


def _secs(value: float) -> str:
    return f"{value:g} s"


def _size(count: int) -> str:
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if count >= scale and count % scale == 0:
            return f"{count // scale} {unit}"
    return f"{count} bytes"
