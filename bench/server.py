"""A loopback HTTP/1.1 server for the benchmarks, run in its own process.

Built on a bare asyncio Protocol so that it costs little per request and never becomes the
bottleneck being measured: files are read once and kept in memory, connections are kept
alive, and each response can be held back by a fixed latency without holding a thread.
Every file has an ETag; a request whose If-None-Match matches gets a 304 with no body.
`GET /_control/touch` changes every ETag (as if every feed had been updated).

    python -m bench.server ROOT [--feed-latency 0.3] [--page-latency 0]

prints its port on the first line of stdout, then serves until terminated.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import ssl
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

_REASONS = {200: "OK", 304: "Not Modified", 404: "Not Found", 400: "Bad Request"}
_TYPES = {
    ".xml": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=windows-1251",
}


@dataclass
class Site:
    root: Path
    feed_latency: float
    page_latency: float
    generation: int = 0

    def __post_init__(self) -> None:
        self._files: dict[str, tuple[bytes, str, str]] = {}

    def lookup(self, path: str) -> tuple[bytes, str, str] | None:
        """(body, content type, etag) of a file under the root, or None."""
        cached = self._files.get(path)
        if cached is not None:
            return cached
        file = (self.root / path.lstrip("/")).resolve()
        if not file.is_relative_to(self.root) or not file.is_file():
            return None
        body = file.read_bytes()
        kind = _TYPES.get(file.suffix, "application/octet-stream")
        etag = hashlib.blake2b(body, digest_size=8).hexdigest()
        self._files[path] = (body, kind, etag)
        return self._files[path]

    def latency(self, path: str) -> float:
        return self.feed_latency if path.endswith((".xml", ".atom")) else self.page_latency


class HttpProtocol(asyncio.Protocol):
    def __init__(self, site: Site) -> None:
        self.site = site
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            self.handle(head.decode("latin-1"))

    def handle(self, head: str) -> None:
        lines = head.split("\r\n")
        parts = lines[0].split(" ")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        close = headers.get("connection", "").lower() == "close"
        if len(parts) != 3:
            self.respond(400, b"", "text/plain", None, True)
            return
        path = parts[1].split("?", 1)[0]
        if path == "/_control/touch":
            self.site.generation += 1
            self.respond(200, b"touched", "text/plain", None, close)
            return
        found = self.site.lookup(path)
        if found is None:
            self.respond(404, b"not found", "text/plain", None, close)
            return
        body, kind, etag = found
        etag = f'"{etag}-{self.site.generation}"'
        status = 304 if headers.get("if-none-match") == etag else 200
        delay = self.site.latency(path)
        payload = b"" if status == 304 else body
        if delay > 0:
            asyncio.get_running_loop().call_later(
                delay, self.respond, status, payload, kind, etag, close
            )
        else:
            self.respond(status, payload, kind, etag, close)

    def respond(self, status: int, body: bytes, kind: str, etag: str | None, close: bool) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        head = [f"HTTP/1.1 {status} {_REASONS[status]}", f"Content-Length: {len(body)}"]
        if status != 304:
            head.append(f"Content-Type: {kind}")
        if etag:
            head.append(f"ETag: {etag}")
        if close:
            head.append("Connection: close")
        self.transport.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        if close:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def serve(site: Site, tls: ssl.SSLContext | None = None) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: HttpProtocol(site), "127.0.0.1", 0, backlog=1024, ssl=tls
    )
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


class ServerProcess:
    """Runs this server in a child process: `with ServerProcess(root, ...) as base_url:`."""

    def __init__(
        self,
        root: Path,
        *,
        feed_latency: float = 0.0,
        page_latency: float = 0.0,
        tls: tuple[Path, Path] | None = None,
    ):
        self.scheme = "https" if tls else "http"
        self.command = [
            sys.executable,
            "-m",
            "bench.server",
            str(root),
            "--feed-latency",
            str(feed_latency),
            "--page-latency",
            str(page_latency),
            *(["--tls", str(tls[0]), str(tls[1])] if tls else []),
        ]
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> str:
        self.process = subprocess.Popen(self.command, stdout=subprocess.PIPE)
        assert self.process.stdout is not None
        port = int(self.process.stdout.readline())
        return f"{self.scheme}://127.0.0.1:{port}"

    def __exit__(self, *_: object) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--feed-latency", type=float, default=0.0, help="seconds, .xml/.atom")
    parser.add_argument("--page-latency", type=float, default=0.0, help="seconds, other files")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve HTTPS")
    args = parser.parse_args()
    site = Site(args.root.resolve(), args.feed_latency, args.page_latency)
    tls = None
    if args.tls:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(*args.tls)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(site, tls))


if __name__ == "__main__":
    main()
