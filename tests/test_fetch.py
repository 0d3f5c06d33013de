from __future__ import annotations

import base64
import gzip
import ipaddress
import threading
import zlib

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from poller.fetch import Fetcher, FetchLimits, refusal_reason

SMALL = FetchLimits(
    connect_timeout=2, read_timeout=0.5, total_timeout=5, max_bytes=1024 * 1024, max_redirects=3
)


async def test_conditional_get_sends_validators_and_a_304_has_no_body(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_ordered_request("/feed").respond_with_data(
        "<rss/>",
        headers={"ETag": '"v1"', "Last-Modified": "Fri, 20 Nov 2026 10:00:00 GMT"},
        content_type="application/rss+xml",
    )
    httpserver.expect_ordered_request(
        "/feed",
        headers={"If-None-Match": '"v1"', "If-Modified-Since": "Fri, 20 Nov 2026 10:00:00 GMT"},
    ).respond_with_data("", status=304)
    async with Fetcher(SMALL) as fetcher:
        first = await fetcher.fetch_feed(httpserver.url_for("/feed"))
        second = await fetcher.fetch_feed(
            httpserver.url_for("/feed"), etag=first.etag, last_modified=first.last_modified
        )
    assert first.ok and first.body == b"<rss/>" and first.content_type == "application/rss+xml"
    assert second.not_modified and second.body == b"" and not second.ok
    httpserver.check_assertions()


async def test_requests_name_repostwatch_in_the_user_agent(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data("<rss/>")
    async with Fetcher(SMALL) as fetcher:
        await fetcher.fetch_feed(httpserver.url_for("/feed"))
    request, _ = httpserver.log[0]
    assert request.headers["User-Agent"].startswith("RepostWatch/")
    assert request.headers["Accept-Encoding"] == "gzip, deflate"


async def test_a_slow_server_is_a_timeout_error(httpserver: HTTPServer) -> None:
    released = threading.Event()

    def slow(request: Request) -> Response:
        released.wait(5)  # answers only after the client has given up
        return Response("<rss/>")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    async with Fetcher(SMALL) as fetcher:
        result = await fetcher.fetch_feed(httpserver.url_for("/slow"))
    released.set()
    assert result.error == f"timed out after 0.5 s reading {httpserver.url_for('/slow')}"
    assert not result.ok and result.body == b""


async def test_an_oversize_body_stops_at_the_cap(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/big").respond_with_data(b"x" * (2 * 1024 * 1024))
    async with Fetcher(SMALL) as fetcher:
        result = await fetcher.fetch_feed(httpserver.url_for("/big"))
    assert result.error == f"body over 1 MB cap from {httpserver.url_for('/big')}"


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
async def test_a_compression_bomb_stops_at_the_cap(httpserver: HTTPServer, coding: str) -> None:
    zeros = b"\0" * (64 * 1024 * 1024)  # 64 MB that compresses to ~64 KB
    bomb = gzip.compress(zeros, 9) if coding == "gzip" else zlib.compress(zeros, 9)
    del zeros
    assert len(bomb) < SMALL.max_bytes  # the compressed body is under the cap
    httpserver.expect_request("/bomb").respond_with_response(
        Response(bomb, headers={"Content-Encoding": coding})
    )
    async with Fetcher(SMALL) as fetcher:
        result = await fetcher.fetch_feed(httpserver.url_for("/bomb"))
    assert result.error.startswith("body over 1 MB cap")


async def test_compressed_bodies_are_decoded(httpserver: HTTPServer) -> None:
    text = "Новости ".encode() * 1000
    httpserver.expect_request("/gz").respond_with_response(
        Response(gzip.compress(text), headers={"Content-Encoding": "gzip"})
    )
    httpserver.expect_request("/raw-deflate").respond_with_response(
        Response(zlib.compress(text)[2:-4], headers={"Content-Encoding": "deflate"})
    )
    async with Fetcher(SMALL) as fetcher:
        gz = await fetcher.fetch_feed(httpserver.url_for("/gz"))
        raw = await fetcher.fetch_feed(httpserver.url_for("/raw-deflate"))
    assert gz.body == text and raw.body == text


async def test_redirects_are_followed_hop_by_hop_and_limited(httpserver: HTTPServer) -> None:
    for hop in range(3):
        httpserver.expect_request(f"/r{hop}").respond_with_response(
            Response(status=301, headers={"Location": f"/r{hop + 1}"})
        )
    httpserver.expect_request("/r3").respond_with_data("<rss/>")
    httpserver.expect_request("/loop").respond_with_response(
        Response(status=302, headers={"Location": "/loop"})
    )
    httpserver.expect_request("/to-file").respond_with_response(
        Response(status=302, headers={"Location": "file:///etc/passwd"})
    )
    async with Fetcher(SMALL) as fetcher:
        followed = await fetcher.fetch_feed(httpserver.url_for("/r0"))
        looping = await fetcher.fetch_feed(httpserver.url_for("/loop"))
        to_file = await fetcher.fetch_feed(httpserver.url_for("/to-file"))
    assert followed.ok and followed.final_url == httpserver.url_for("/r3")
    assert looping.error == f"too many redirects (over 3) from {httpserver.url_for('/loop')}"
    assert to_file.error == "refused: file address 'file:///etc/passwd' is not http(s)"


async def test_a_cookie_set_on_a_redirect_goes_with_the_next_hop(httpserver: HTTPServer) -> None:
    """Some outlets set a cookie on a redirect and want it back at the feed: the fetcher
    keeps cookies per client, and sends none until a server has set one."""
    httpserver.expect_request("/gate").respond_with_response(
        Response(status=302, headers={"Location": "/feed", "Set-Cookie": "visitor=v42; Path=/"})
    )
    httpserver.expect_request("/feed", headers={"Cookie": "visitor=v42"}).respond_with_data(
        "<rss/>"
    )
    async with Fetcher(SMALL) as fetcher:
        result = await fetcher.fetch_feed(httpserver.url_for("/gate"))
    first, _ = httpserver.log[0]
    assert "Cookie" not in first.headers
    assert result.ok and result.final_url == httpserver.url_for("/feed")


async def test_credentials_in_a_feed_address_are_sent_as_basic_auth(
    httpserver: HTTPServer,
) -> None:
    token = base64.b64encode(b"reader:s3cret word").decode()
    httpserver.expect_request(
        "/private", headers={"Authorization": f"Basic {token}"}
    ).respond_with_data("<rss/>")
    url = httpserver.url_for("/private").replace("://", "://reader:s3cret%20word@")
    async with Fetcher(SMALL) as fetcher:
        result = await fetcher.fetch_feed(url)
    assert result.ok and result.body == b"<rss/>"


async def test_http_errors_and_dead_servers_are_data(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/gone").respond_with_data("no", status=410)
    async with Fetcher(SMALL) as fetcher:
        gone = await fetcher.fetch_feed(httpserver.url_for("/gone"))
        dead = await fetcher.fetch_feed("http://127.0.0.1:9/feed")
    assert (gone.status, gone.error) == (410, f"HTTP 410 from {httpserver.url_for('/gone')}")
    assert dead.error.startswith("cannot connect to http://127.0.0.1:9/feed")


@pytest.mark.parametrize(
    ("link", "reason"),
    [
        ("http://127.0.0.1/x", "loopback address 127.0.0.1"),
        ("http://localhost/x", "loopback address"),
        ("http://10.0.0.5/article", "private address 10.0.0.5"),
        ("http://192.168.1.1/", "private address 192.168.1.1"),
        ("http://169.254.169.254/latest/meta-data/", "metadata address 169.254.169.254"),
        ("http://[fd00:ec2::254]/latest/", "metadata address fd00:ec2::254"),
        ("http://169.254.10.1/", "link-local address 169.254.10.1"),
        ("http://100.64.0.7/", "CGNAT address 100.64.0.7"),
        ("http://[::ffff:10.0.0.5]/", "private address ::ffff:a00:5"),
        ("http://224.0.0.1/", "multicast address 224.0.0.1"),
        ("http://0.0.0.0/", "unspecified address 0.0.0.0"),
    ],
)
async def test_item_links_never_reach_private_addresses(link: str, reason: str) -> None:
    async with Fetcher(SMALL) as fetcher:
        result = await fetcher.fetch_page(link)
    assert result.error.startswith(f"refused: link points to {reason}")


async def test_the_guard_holds_for_a_live_loopback_server(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/page").respond_with_data("<html></html>")
    async with Fetcher(SMALL) as fetcher:
        refused = await fetcher.fetch_page(httpserver.url_for("/page"))
    async with Fetcher(SMALL, allow_private_links=True) as fetcher:
        allowed = await fetcher.fetch_page(httpserver.url_for("/page"))
    assert refused.error.startswith("refused: link points to loopback address")
    assert allowed.ok
    assert len(httpserver.log) == 1  # the refused fetch never connected


@pytest.mark.parametrize("scheme_link", ["file:///etc/passwd", "gopher://x/", "ftp://x/f"])
async def test_non_web_schemes_are_refused(scheme_link: str) -> None:
    async with Fetcher(SMALL, allow_private_links=True) as fetcher:
        result = await fetcher.fetch_page(scheme_link)
    assert result.error.startswith("refused:") and "is not http(s)" in result.error


def test_public_addresses_pass_the_guard() -> None:
    for address in ("8.8.8.8", "2a00:1450:4010:c0e::64", "151.101.1.140"):
        assert refusal_reason(ipaddress.ip_address(address)) is None
