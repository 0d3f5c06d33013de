"""Item links into the private network (SSRF), polled beside a good feed (tests/hostile.py).

No such link is fetched: each item is kept with the feed's own text and each refusal is
reported and shown by `repostwatch feeds`.
"""

from __future__ import annotations

from storage import Store
from tests.hostile import GUARDED, OUTLET, Web, feeds_row, poll_before_and_after


async def test_item_links_to_private_addresses_are_refused_and_the_items_kept(
    web: Web, store: Store
) -> None:
    outcome = await poll_before_and_after(web, store, web.serve("private-links.xml"), GUARDED)
    outlet = outcome.outlet
    assert (outlet.status, outlet.entries, outlet.pages_fetched) == ("ok", 10, 0)
    port = web.base.rsplit(":", 1)[1]
    refusals = sorted(outlet.errors)
    assert refusals == sorted(
        [
            f"refused: link points to loopback address 127.0.0.1 (http://localhost:{port}/pages/meduza-ru.html?via=name)",
            f"refused: link points to loopback address 127.0.0.1 (http://2130706433:{port}/pages/meduza-ru.html?via=number)",
            f"refused: link points to loopback address ::1 (http://[::1]:{port}/pages/meduza-ru.html?via=v6)",
            f"refused: link points to loopback address ::ffff:7f00:1 (http://[::ffff:127.0.0.1]:{port}/pages/meduza-ru.html?via=mapped)",
            "refused: link points to private address 192.168.1.1 (http://192.168.1.1/admin)",
            "refused: link points to private address 10.0.0.5 (http://10.0.0.5/)",
            "refused: link points to link-local address 169.254.10.20 (http://169.254.10.20/)",
            "refused: link points to metadata address 169.254.169.254 (http://169.254.169.254/latest/meta-data/iam/security-credentials/)",
            "refused: link points to CGNAT address 100.64.0.1 (http://100.64.0.1/)",
            f"refused: link points to unspecified address 0.0.0.0 (http://0.0.0.0:{port}/pages/meduza-ru.html?via=zero)",
        ]
    )
    # Nothing reached the server through those links: its page was only fetched on the
    # first poll, and then refused (as loopback) like every other page.
    assert [r for r, _ in web.server.log if "via=" in r.query_string.decode()] == []
    # Every item is kept, with the feed's own text.
    new = outcome.new_articles(store)
    assert len(new) == 10 and {article.source for article in new} == {"feed"}
    assert sorted(article.text for article in new)[0] == "Teaser eight."
    state = store.feed_state(OUTLET)
    assert state.problems_last == 10
    assert "10 problem(s), first: refused: link points to" in feeds_row(store.path)
    for url, article in outcome.before.items():
        assert store.article_by_url(url) == article
    assert outcome.good.status == "ok" and outcome.good.new_articles == 1
