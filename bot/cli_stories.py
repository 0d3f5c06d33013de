"""`repostwatch stories`: the stories of the last hours, with every source and summary."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from bot.cli_options import db_option
from bot.settings import Settings
from storage import Store, Story

_DURATION = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(value: str) -> timedelta:
    """A duration such as "90m", "24h", "7d" or "2w"."""
    match = _DURATION.match(value.lower())
    if not match or int(match.group(1)) == 0:
        raise ValueError(
            f"expected a number and a unit m, h, d or w (like 24h or 7d), got {value!r}"
        )
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


@click.command("stories")
@click.option(
    "--since",
    default="24h",
    show_default=True,
    metavar="DURATION",
    help="Stories that gained an article within this long: 90m, 24h, 7d, 2w.",
)
@db_option
@click.option("--all", "show_all", is_flag=True, help="Include stories not scored relevant.")
@click.pass_obj
def stories(settings: Settings, since: str, db_path: Path | None, show_all: bool) -> None:
    """List stories (relevant ones unless --all) with their sources and summaries.

    \b
    Example:
        repostwatch stories --since 48h
        repostwatch stories --all --db data/repostwatch.db
    """
    try:
        window = parse_duration(since)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--since") from None
    path = db_path or settings.db_path
    if not path.is_file():
        raise click.UsageError(f"no database at {path}: poll some feeds first, or pass --db")
    store = Store(path)
    try:
        found = store.stories_since(datetime.now(UTC) - window, relevant_only=not show_all)
    finally:
        store.close()
    noun = "story" if len(found) == 1 else "stories"
    scope = noun if show_all else f"relevant {noun}"
    hint = "" if show_all else " (--all for every story)"
    click.echo(f"{len(found)} {scope} updated in the last {since.strip()}{hint}")
    for story in found:
        click.echo("")
        click.echo(format_story(story))


def format_story(story: Story) -> str:
    """A story as plain text: headline, facts, a summary per language, one line per source."""
    languages = ", ".join(dict.fromkeys(source.lang for source in story.sources))
    facts = [
        story.created_at.strftime("%Y-%m-%d %H:%M UTC"),
        "relevant" if story.relevant else "not relevant",
    ]
    if story.score is not None:
        facts.append(f"score {story.score:.2f}")
    facts.append(f"{len(story.sources)} source{'s' * (len(story.sources) != 1)}: {languages}")
    if story.parent_id is not None:
        facts.append(f"follows up #{story.parent_id}")
    lines = [f"#{story.id}  {story.title}", "     " + " · ".join(facts)]
    lines += [f"     {lang}: {summary}" for lang, summary in sorted(story.summaries.items())]
    lines += [f"     - {s.feed} ({s.lang}) {s.url}" for s in story.sources]
    return "\n".join(lines)
