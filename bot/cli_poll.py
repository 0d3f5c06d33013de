"""`repostwatch poll`, `repostwatch feeds` and `repostwatch demo`."""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
from pathlib import Path

import click

from bot.cli_options import database_paths, db_option
from bot.console import print_alerts
from bot.demo import DemoResult, run_demo
from bot.relevance import RelevanceHooks
from bot.settings import Settings
from bot.tables import ago, table
from poller.config import ConfigError, FeedSpec, load_feeds
from poller.pipeline import Poller, PollProgress, PollReport, PollSettings, describe_feed
from storage import FeedState, Store
from storage.base import utcnow

CONFIG_ERROR_STATUS = 2


@click.command("poll")
@click.option("--once", is_flag=True, help="Poll every feed once, now, then exit.")
@click.option(
    "--feeds",
    "feeds_path",
    type=click.Path(path_type=Path),
    help="Feeds file (default: $REPOSTWATCH_FEEDS or feeds.yaml).",
)
@db_option
@click.pass_obj
def poll_command(
    settings: Settings, once: bool, feeds_path: Path | None, db_path: Path | None
) -> None:
    """Fetch the feeds, extract new articles, score them, match them into stories and store them.

    The first run trains the relevance model from the bundled seed corpus (models are kept in
    a models/ folder beside the database). Without --once it keeps polling, each feed at its own interval (failing feeds back off),
    until interrupted. In a terminal it shows progress and ends with a summary table;
    otherwise it writes one log line per feed.

    \b
    Example:
        repostwatch poll --once --feeds feeds.yaml --db data/repostwatch.db
    """
    feeds = _load_feeds_or_exit(feeds_path or settings.feeds_path)
    interactive = sys.stderr.isatty()
    _configure_logging(interactive)
    db_path, models_dir = database_paths(settings, db_path)
    store = Store(db_path)
    poll_settings = PollSettings(allow_private_links=settings.allow_private_links)
    try:
        hooks = RelevanceHooks(store, models_dir)
        asyncio.run(_poll(store, feeds, poll_settings, hooks, once=once, interactive=interactive))
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
    finally:
        store.close()


@click.command("feeds")
@db_option
@click.pass_obj
def feeds_command(settings: Settings, db_path: Path | None) -> None:
    """Show every polled feed: last fetch, status, items, errors and next poll.

    \b
    Example:
        repostwatch feeds --db data/repostwatch.db
    """
    store = Store(db_path or settings.db_path)
    try:
        states = store.feed_states()
    finally:
        store.close()
    if not states:
        click.echo("No feeds polled yet: run `repostwatch poll --once`.")
        return
    rows = [
        (
            state.name,
            ago(state.last_fetch_at),
            state.last_status or "never",
            state.items_last,
            state.articles_total,
            state.error_count,
            _trouble(state),
            ago(state.next_poll_at),
        )
        for state in states
    ]
    headers = (
        "feed",
        "last fetch",
        "status",
        "items",
        "stored",
        "errors",
        "last error or problem",
        "next",
    )
    click.echo(table(headers, rows, max_cell=100))


def _trouble(state: FeedState) -> str:
    """The feed's last error, else what went wrong inside it at its last successful fetch."""
    if state.last_error:
        return state.last_error
    if state.problems_last:
        return f"{state.problems_last} problem(s), first: {state.last_problem}"
    return ""


@click.command("demo")
@click.pass_obj
def demo_command(settings: Settings) -> None:
    """Poll the bundled fixture feeds and pages over loopback and show what was found.

    Needs no network and no Telegram token: the feeds and pages under tests/fixtures/ are
    served on 127.0.0.1 and polled into a temporary database; new articles are scored (the
    model is trained from the bundled seed corpus first) and matched into stories, and the
    alert each relevant story would get is printed, as `repostwatch run` does without a token.

    \b
    Example:
        repostwatch demo
    """
    with tempfile.TemporaryDirectory(prefix="repostwatch-demo-") as workdir:
        result = run_demo(Path(workdir))
    click.echo(render_demo(result))
    click.echo(
        f"\nThe alerts it would send ({len(result.stories)}), as console mode prints them:\n"
    )
    print_alerts(list(result.stories), sys.stdout, tz=settings.tz)


def render_demo(result: DemoResult) -> str:
    report = result.report
    articles = [
        (article.feed, article.lang, article.source, article.title)
        for article in sorted(result.articles, key=lambda article: (article.feed, article.id))
    ]
    return "\n\n".join(
        [
            _report_table(report),
            table(("outlet", "lang", "source", "title"), articles, max_cell=90),
            _totals(report),
        ]
    )


async def _poll(
    store: Store,
    feeds: list[FeedSpec],
    settings: PollSettings,
    hooks: RelevanceHooks,
    *,
    once: bool,
    interactive: bool,
) -> None:
    progress = _show_progress if interactive else _log_feed
    async with Poller(
        store, feeds, settings, score=hooks.score, on_stored=hooks.on_stored, on_progress=progress
    ) as poller:
        if once:
            _print_report(await poller.poll(), interactive)
        else:
            await poller.run_forever(lambda report: _print_report(report, interactive))


def _print_report(report: PollReport, interactive: bool) -> None:
    if interactive:
        click.echo("\r\033[K", nl=False, err=True)
        if report.feeds:
            click.echo(_report_table(report))
        click.echo(_totals(report))
    else:
        click.echo(f"{_stamp()} {_totals(report)}")


def _show_progress(progress: PollProgress) -> None:
    click.echo(
        f"\r\033[Kfeeds {progress.feeds_done}/{progress.feeds_total} fetched · "
        f"articles {progress.pages_done}/{progress.pages_total} extracted · "
        f"{progress.stored} stored",
        nl=False,
        err=True,
    )


def _log_feed(progress: PollProgress) -> None:
    if progress.finished is not None:
        click.echo(f"{_stamp()} {describe_feed(progress.finished)}", err=True)


def _stamp() -> str:
    return utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")


def _report_table(report: PollReport) -> str:
    rows = [
        (
            feed.name,
            feed.status,
            feed.entries,
            feed.new_articles,
            feed.pages_fetched,
            feed.fallbacks,
            len(feed.errors),
            feed.error or feed.warning or (feed.errors[0] if feed.errors else ""),
        )
        for feed in report.feeds
    ]
    headers = ("feed", "status", "entries", "new", "pages", "from feed", "problems", "note")
    return table(headers, rows)


def _totals(report: PollReport) -> str:
    return (
        f"{len(report.feeds)} feeds polled in {report.seconds:.1f} s: {report.count('ok')} ok, "
        f"{report.count('not-modified')} not modified, {report.count('error')} failed; "
        f"{report.new_articles} new articles ({report.new_articles - report.fallbacks} from "
        f"pages, {report.fallbacks} from feed text), {report.errors} problems"
    )


def _load_feeds_or_exit(path: Path) -> list[FeedSpec]:
    try:
        return load_feeds(path)
    except ConfigError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(CONFIG_ERROR_STATUS)


def _configure_logging(interactive: bool) -> None:
    """Warnings and errors (with tracebacks) go to stderr; feed lines are printed, not logged."""
    logging.basicConfig(
        level=logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise
