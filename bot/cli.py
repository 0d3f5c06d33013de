"""The `repostwatch` command: each subcommand is a short call into the library."""

from __future__ import annotations

import click

from bot import cli_classify
from bot.cli_backup import backup_command
from bot.cli_extract import extract_command
from bot.cli_poll import demo_command, feeds_command, poll_command
from bot.cli_run import run_command
from bot.cli_stories import stories
from bot.settings import Settings, SettingsError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="repostwatch")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """RepostWatch: news about prosecutions for online posts, delivered to Telegram.

    \b
    Example:
        repostwatch demo
    """
    try:
        ctx.obj = Settings.from_env()
    except SettingsError as error:
        raise click.UsageError(str(error)) from None


cli.add_command(extract_command)
cli.add_command(poll_command)
cli.add_command(feeds_command)
cli.add_command(demo_command)
cli.add_command(run_command)
cli.add_command(stories)
cli.add_command(cli_classify.train)
cli.add_command(cli_classify.evaluate)
cli.add_command(cli_classify.classify)
cli.add_command(backup_command)


def main() -> None:
    cli(prog_name="repostwatch")
