"""Hostile servers, each beside a good feed (see tests/hostile.py): bodies over the size cap,
compression bombs, servers that trickle or never answer, refused connections, redirect loops
and feed redirects into the private network."""

from __future__ import annotations

import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from dataclasses import replace

import pytest
from werkzeug import Request, Response

from poller.config import FeedSpec
from storage import Store
from tests.hostile import (
    GUARDED,
    LIMITS,
    OPEN,
    OUTLET,
    Web,
    assert_feed_error,
    assert_survived,
    feeds_row,
    fixture,
    poll_before_and_after,
)

CAP = LIMITS.max_bytes  # 512 KB


def gzip_bomb(decoded_size: int) -> bytes:
    """`decoded_size` bytes of zeros, gzipped: about a thousandth of that on the wire."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    chunk = bytes(1024 * 1024)
    parts = [packer.compress(chunk) for _ in range(decoded_size // len(chunk))]
    return b"".join([*parts, packer.flush()])


async def test_a_feed_over_the_size_cap_is_an_error(web: Web, store: Store) -> None:
    padding = b"<!-- " + b"padding " * (CAP // 8) + b"-->"
    body = fixture("before.xml", web.base).replace(b"<rss", padding + b"<rss", 1)
    outcome = await poll_before_and_after(
        web, store, lambda request: Response(body, content_type="application/rss+xml")
    )
    assert_feed_error(outcome, store, f"body over 512 KB cap from {web.base}/outlet.xml")
    assert "body over 512 KB cap" in feeds_row(store.path)
    assert_survived(web, outcome, store)


async def test_gzip_bombs_stop_at_the_decoded_size_cap_in_bounded_memory(
    web: Web, store: Store
) -> None:
    bomb = gzip_bomb(256 * 1024 * 1024)
    assert len(bomb) < 512 * 1024  # small on the wire, 256 MB decoded
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        f"<item><title>Bomb page</title><link>{web.base}/bomb-page</link>"
        "<description>The teaser survives.</description></item></channel></rss>"
    ).encode()
    web.server.expect_request("/bomb-page").respond_with_data(
        bomb, headers={"Content-Encoding": "gzip"}, content_type="text/html"
    )
    web.server.expect_request("/bomb-feed.xml").respond_with_data(
        bomb, headers={"Content-Encoding": "gzip"}, content_type="application/rss+xml"
    )
    web.server.expect_request("/feed-with-bomb-page.xml").respond_with_data(
        feed, content_type="application/rss+xml"
    )
    bombed_page = FeedSpec("bombed-page", f"{web.base}/feed-with-bomb-page.xml", "en")

    tracemalloc.start()
    try:
        outcome = await poll_before_and_after(
            web,
            store,
            lambda request: Response(
                bomb, headers={"Content-Encoding": "gzip"}, content_type="application/rss+xml"
            ),
            also=[bombed_page],
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Python allocations of both polls (the server thread's, a worker pool's start, whatever
    # the first poll imports): 10-20 MB depending on what ran before in this process, and
    # nowhere near the 256 MB the bomb decodes to, which is what this pins.
    assert peak < 48 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    assert_feed_error(outcome, store, f"body over 512 KB cap from {web.base}/outlet.xml")
    page_report = next(report for report in outcome.second.feeds if report.name == "bombed-page")
    assert page_report.errors == (f"body over 512 KB cap from {web.base}/bomb-page",)
    article = store.article_by_url(f"{web.base}/bomb-page")
    assert (article.source, article.text) == ("feed", "The teaser survives.")
    assert "body over 512 KB cap" in feeds_row(store.path, "bombed-page")
    assert_survived(web, outcome, store)


async def test_a_server_that_trickles_bytes_hits_the_total_timeout(web: Web, store: Store) -> None:
    def trickle(request: Request) -> Response:
        def drip() -> Iterator[bytes]:
            yield b'<?xml version="1.0"?>'
            for _ in range(100):  # one byte every 0.3 s: never idle long enough for read_timeout
                if web.release.wait(0.3):
                    return
                yield b" "

        return Response(drip(), content_type="application/rss+xml", direct_passthrough=True)

    settings = replace(OPEN, limits=replace(LIMITS, total_timeout=2))
    started = time.monotonic()
    outcome = await poll_before_and_after(web, store, trickle, settings)
    assert time.monotonic() - started < 15
    assert_feed_error(
        outcome, store, f"timed out after 2 s in total fetching {web.base}/outlet.xml"
    )
    assert "timed out after 2 s in total" in feeds_row(store.path)
    assert_survived(web, outcome, store)


async def test_a_server_that_never_answers_hits_the_read_timeout(web: Web, store: Store) -> None:
    def silent(request: Request) -> Response:
        web.release.wait(10)
        return Response(b"", status=204)

    outcome = await poll_before_and_after(web, store, silent)
    assert_feed_error(outcome, store, f"timed out after 1 s reading {web.base}/outlet.xml")
    assert "timed out after 1 s reading" in feeds_row(store.path)
    assert_survived(web, outcome, store)


@pytest.mark.parametrize("kind", ["accepts-and-hangs", "hangs-up", "not-http", "refused"])
async def test_broken_tcp_servers_are_errors(web: Web, store: Store, kind: str) -> None:
    """The feed's address moves to a raw TCP port that misbehaves."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    if kind == "refused":
        listener.close()  # nothing listens there now
    else:
        listener.listen(8)

    def serve() -> None:
        while not web.release.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.recv(65536)  # read the request, so closing sends FIN, not a reset
            if kind == "hangs-up":
                conn.close()
            elif kind == "not-http":
                conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n" * 50)
                conn.close()
            else:
                web.release.wait(10)
                conn.close()

    if kind != "refused":
        threading.Thread(target=serve, daemon=True).start()
    expected = {
        "accepts-and-hangs": "timed out after 1 s reading http://127.0.0.1:",
        "hangs-up": "broken HTTP response from http://127.0.0.1:",
        "not-http": "broken HTTP response from http://127.0.0.1:",
        "refused": "cannot connect to http://127.0.0.1:",
    }[kind]
    try:
        outcome = await poll_before_and_after(
            web, store, web.serve("before.xml"), moved_to=f"http://127.0.0.1:{port}/rss"
        )
    finally:
        web.release.set()
        listener.close()
    assert_feed_error(outcome, store, expected)
    assert expected in feeds_row(store.path)
    assert_survived(web, outcome, store)


async def test_a_redirect_loop_is_an_error(web: Web, store: Store) -> None:
    web.server.expect_request("/loop-a").respond_with_response(
        Response(status=302, headers={"Location": "/loop-b"})
    )
    web.server.expect_request("/loop-b").respond_with_response(
        Response(status=301, headers={"Location": f"{web.base}/loop-a"})
    )
    outcome = await poll_before_and_after(
        web, store, lambda request: Response(status=302, headers={"Location": "/loop-a"})
    )
    assert_feed_error(outcome, store, f"too many redirects (over 5) from {web.base}/outlet.xml")
    assert "too many redirects" in feeds_row(store.path)
    assert_survived(web, outcome, store)


@pytest.mark.parametrize(
    ("target", "refusal"),
    [
        ("http://127.0.0.1:{port}/moved.xml", "loopback address 127.0.0.1"),
        ("http://[::1]:{port}/moved.xml", "loopback address ::1"),
        ("http://10.0.0.5/rss.xml", "private address 10.0.0.5"),
        ("http://192.168.0.1/rss.xml", "private address 192.168.0.1"),
        ("http://169.254.169.254/latest/meta-data/", "metadata address 169.254.169.254"),
        ("http://169.254.7.7/", "link-local address 169.254.7.7"),
    ],
)
async def test_a_feed_redirect_off_its_host_into_the_private_network_is_refused(
    web: Web, store: Store, target: str, refusal: str
) -> None:
    """The feed lives on `localhost` (trusted: it is configured). A redirect to another host
    is guarded like an item link, so it may not reach loopback, private or metadata
    addresses; a redirect that stays on `localhost` is followed."""
    port = web.base.rsplit(":", 1)[1]
    location = target.format(port=port)
    web.server.expect_request("/moved.xml").respond_with_handler(web.serve("before.xml"))
    outcome = await poll_before_and_after(
        web, store, lambda request: Response(status=301, headers={"Location": location}), GUARDED
    )
    assert_feed_error(
        outcome,
        store,
        f"refused: link points to {refusal} ({location}, redirected from {web.base}/outlet.xml)",
    )
    assert f"refused: link points to {refusal}" in feeds_row(store.path)
    assert web.requests_to("/moved.xml") == []
    assert_survived_guarded(web, outcome, store)


async def test_a_feed_redirect_within_its_own_host_is_followed(web: Web, store: Store) -> None:
    web.server.expect_request("/moved.xml").respond_with_handler(web.serve("duplicate-guids.xml"))
    outcome = await poll_before_and_after(
        web,
        store,
        lambda request: Response(status=301, headers={"Location": "/moved.xml"}),
        GUARDED,
    )
    assert outcome.outlet.status == "ok" and outcome.outlet.new_articles == 3
    assert store.feed_state(OUTLET).last_error is None
    assert_survived_guarded(web, outcome, store)


async def test_private_links_allowed_lets_a_feed_redirect_to_loopback(
    web: Web, store: Store
) -> None:
    """REPOSTWATCH_ALLOW_PRIVATE_LINKS (for a mirror on your own network) lifts the guard for
    feed redirects as it does for item links."""
    port = web.base.rsplit(":", 1)[1]
    web.server.expect_request("/moved.xml").respond_with_handler(web.serve("duplicate-guids.xml"))
    outcome = await poll_before_and_after(
        web,
        store,
        lambda request: Response(
            status=301, headers={"Location": f"http://127.0.0.1:{port}/moved.xml"}
        ),
        OPEN,
    )
    assert outcome.outlet.status == "ok" and outcome.outlet.new_articles == 3
    assert_survived(web, outcome, store)


def assert_survived_guarded(web: Web, outcome, store: Store) -> None:
    """`assert_survived` for guarded polls: the good outlet's pages are on loopback too, so
    they are refused and its new item is stored from its feed text."""
    good = outcome.good
    assert (good.status, good.error, good.new_articles, good.fallbacks) == ("ok", None, 1, 1)
    for url, article in outcome.before.items():
        assert store.article_by_url(url) == article
    assert store.scalar("PRAGMA integrity_check") == "ok"
