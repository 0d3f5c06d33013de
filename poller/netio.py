"""An httpcore network backend on asyncio's own transports, for the fetcher.

httpcore's default backend goes through anyio: each read and write opens a cancel scope and
two exception-mapping context managers, each read pauses and resumes the socket's reader (two
epoll system calls), and TLS runs in anyio's Python loop over a memory BIO. For a 304 that
was most of the CPU of a poll. Here a connection is an asyncio transport whose protocol keeps
what arrives until httpcore reads it, timeouts are timer callbacks on the loop, and TLS is
asyncio's own (`loop.start_tls`). Certificate and host name checks are the SSL context's,
exactly as before; httpcore's exceptions and its meaning of "readable" are kept.
"""

from __future__ import annotations

import asyncio
import collections
import ipaddress
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
from httpcore import AsyncNetworkBackend, AsyncNetworkStream

HAPPY_EYEBALLS_DELAY = 0.25  # seconds before trying the next address, as anyio does
_PAUSE_READING_AT = 512 * 1024  # bytes received and not yet read by httpcore


class _Protocol(asyncio.Protocol):
    """Keeps received data, end of stream and flow control for `AsyncioStream`."""

    def __init__(self) -> None:
        self.chunks: collections.deque[bytes] = collections.deque()
        self.buffered = 0
        self.closed = False  # end of stream or connection lost
        self.error: BaseException | None = None
        self.reading_paused = False
        self.writing_paused = False
        self.transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)
        self.buffered += len(data)
        if self.buffered > _PAUSE_READING_AT and not self.reading_paused:
            self.reading_paused = True
            assert self.transport is not None
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.closed = True
        self._wake()
        return False  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.error = exc
        self.writing_paused = False
        self._wake()

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        self._wake()

    def take(self, max_bytes: int) -> bytes:
        """Up to `max_bytes` of what has arrived (at least one byte if anything has)."""
        chunk = self.chunks.popleft()
        if len(chunk) > max_bytes:
            self.chunks.appendleft(chunk[max_bytes:])
            chunk = chunk[:max_bytes]
        self.buffered -= len(chunk)
        if self.reading_paused and self.buffered <= _PAUSE_READING_AT // 2:
            self.reading_paused = False
            assert self.transport is not None
            self.transport.resume_reading()
        return chunk

    async def wait(self, timeout: float | None, expired: type[Exception], what: str) -> None:
        """Wait for the next event (data, end of stream, room to write), at most `timeout`."""
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        timer = None
        if timeout is not None:
            timer = loop.call_later(timeout, _expire, waiter, expired(f"timed out {what}"))
        try:
            await waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _expire(waiter: asyncio.Future[None], error: Exception) -> None:
    if not waiter.done():
        waiter.set_exception(error)


class AsyncioStream(AsyncNetworkStream):
    """One TCP connection (TLS once `start_tls` has run) as httpcore wants it."""

    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self._transport = transport
        self._protocol = protocol

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        protocol = self._protocol
        while not protocol.chunks and not protocol.closed:
            await protocol.wait(timeout, httpcore.ReadTimeout, "reading")
        if protocol.chunks:
            return protocol.take(max_bytes)
        if protocol.error is not None:
            raise httpcore.ReadError(str(protocol.error) or type(protocol.error).__name__)
        return b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        protocol = self._protocol
        if protocol.closed or self._transport.is_closing():
            raise httpcore.WriteError(str(protocol.error or "connection closed"))
        self._transport.write(buffer)
        while protocol.writing_paused and not protocol.closed:
            await protocol.wait(timeout, httpcore.WriteTimeout, "writing")
        if protocol.error is not None:
            raise httpcore.WriteError(str(protocol.error) or type(protocol.error).__name__)

    async def aclose(self) -> None:
        # As httpcore's own backend: no TLS close_notify, the socket is simply closed.
        if self._transport.get_extra_info("ssl_object") is not None:
            self._transport.abort()
        else:
            self._transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(
                    self._transport, self._protocol, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError:
            self._transport.abort()
            raise httpcore.ConnectTimeout("timed out in the TLS handshake") from None
        except OSError as error:  # ssl.SSLError is one: a bad certificate, not TLS at all...
            self._transport.abort()
            raise httpcore.ConnectError(str(error) or type(error).__name__) from None
        if transport is None:  # the connection was lost during the handshake
            raise httpcore.ConnectError("connection closed during the TLS handshake")
        return AsyncioStream(transport, self._protocol)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            # Idle, anything that arrived (or the end of the stream) means the server has
            # closed or broken the connection: httpcore then drops it from the pool.
            return bool(self._protocol.chunks) or self._protocol.closed
        name = {"client_addr": "sockname", "server_addr": "peername"}.get(info, info)
        if name in ("ssl_object", "sockname", "peername", "socket"):
            return self._transport.get_extra_info(name)
        return None


class AsyncioBackend(AsyncNetworkBackend):
    """httpcore network backend on asyncio transports (see the module docstring)."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable | None = None,
    ) -> AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        # An address is tried alone: asyncio races even a single one through tasks.
        race = None if _is_ip_address(host) else HAPPY_EYEBALLS_DELAY
        try:
            async with asyncio.timeout(timeout):
                transport, protocol = await loop.create_connection(
                    _Protocol,
                    host,
                    port,
                    local_addr=(local_address, 0) if local_address else None,
                    happy_eyeballs_delay=race,
                )
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"timed out connecting to {host}") from None
        except OSError as error:
            raise httpcore.ConnectError(str(error) or type(error).__name__) from None
        assert isinstance(transport, asyncio.Transport)
        for option in socket_options or ():
            transport.get_extra_info("socket").setsockopt(*option)
        return AsyncioStream(transport, protocol)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable | None = None
    ) -> AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not fetched")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
