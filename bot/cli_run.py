"""`repostwatch run`: the whole service in one process."""

from __future__ import annotations

import logging

import click
from telegram.error import InvalidToken

from bot.app import run
from bot.logsafe import protect_logs, protect_tracebacks
from bot.settings import Settings
from poller.config import ConfigError

CONFIG_ERROR_STATUS = 2
REJECTED_TOKEN = (
    "error: the Bot API rejected the token in TELEGRAM_BOT_TOKEN (revoked, or mistyped?); "
    "get the current one from @BotFather"
)


@click.command("run")
@click.option("-v", "--verbose", is_flag=True, help="Log debug details (never the token).")
@click.pass_obj
def run_command(settings: Settings, verbose: bool) -> None:
    """Poll the feeds, score, match stories, and run the Telegram bot, until Ctrl-C.

    The token comes from TELEGRAM_BOT_TOKEN; TELEGRAM_API_URL points at another Bot API
    server (self-hosted, or a test one). Without a token it runs in console mode: alerts and
    digests are printed, nothing is sent, and the feeds are still polled.

    \b
    Example:
        TELEGRAM_BOT_TOKEN=123:ABC REPOSTWATCH_MODERATORS=42 repostwatch run
    """
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    protect_tracebacks(protect_logs(settings.token))
    # With max_retries=0 it logs every RetryAfter as an error; delivery handles those itself.
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
    try:
        run(settings)
    except ConfigError as error:
        click.echo(f"error: {error}", err=True)
        raise SystemExit(CONFIG_ERROR_STATUS) from None
    except InvalidToken:
        # PTB's own message quotes the token; say what is wrong without it.
        click.echo(REJECTED_TOKEN, err=True)
        raise SystemExit(CONFIG_ERROR_STATUS) from None
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
