"""Sending one rendered message, with every failure turned into a plain `SendResult`.

The delivery worker never sees a PTB exception: this module decides what each one means —
above all, whether the request may have reached Telegram (`uncertain`) or certainly did not
(`not_sent`, safe to try again).
"""

from __future__ import annotations

import logging
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol, TextIO

import httpx
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.warnings import PTBDeprecationWarning

from bot.render import Button, Rendered, to_console

log = logging.getLogger(__name__)

# Failures raised before a single byte of the request left this machine.
NEVER_LEFT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class SendResult:
    status: str  # sent, not_modified, retry_after, forbidden, migrated, bad_request,
    # not_sent (certainly not delivered) or uncertain (may have been delivered)
    message_id: int | None = None
    retry_after: float = 0.0
    new_chat_id: int | None = None
    error: str = ""


class Sender(Protocol):
    async def send(self, chat_id: int, message: Rendered) -> SendResult: ...

    async def edit(self, chat_id: int, message_id: int, message: Rendered) -> SendResult: ...


def keyboard(buttons: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.text, callback_data=b.data) for b in row] for row in buttons]
    )


class TelegramSender:
    def __init__(self, bot: Bot, redact: Callable[[str], str] = str) -> None:
        self.bot = bot
        self.redact = redact

    async def send(self, chat_id: int, message: Rendered) -> SendResult:
        try:
            sent = await self.bot.send_message(
                chat_id,
                message.text,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(message.buttons),
                link_preview_options=LinkPreviewOptions(is_disabled=not message.preview),
            )
        except Exception as error:  # every failure is an outcome here, see `_outcome`
            return self._outcome(error)
        return SendResult("sent", message_id=sent.message_id)

    async def edit(self, chat_id: int, message_id: int, message: Rendered) -> SendResult:
        try:
            await self.bot.edit_message_text(
                message.text,
                chat_id=chat_id,
                message_id=message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(message.buttons),
                link_preview_options=LinkPreviewOptions(is_disabled=not message.preview),
            )
        except Exception as error:
            return self._outcome(error)
        return SendResult("sent", message_id=message_id)

    def _outcome(self, error: Exception) -> SendResult:
        text = self.redact(f"{type(error).__name__}: {error}")
        if isinstance(error, RetryAfter):
            return SendResult("retry_after", retry_after=retry_seconds(error), error=text)
        if isinstance(error, ChatMigrated):
            return SendResult("migrated", new_chat_id=error.new_chat_id, error=text)
        if isinstance(error, Forbidden):
            return SendResult("forbidden", error=text)
        if isinstance(error, BadRequest):
            if "not modified" in str(error).lower():
                return SendResult("not_modified", error=text)
            return SendResult("bad_request", error=text)
        if isinstance(error, InvalidToken):
            return SendResult("not_sent", error=text)
        if isinstance(error, TimedOut | NetworkError):
            never_left = isinstance(error.__cause__, NEVER_LEFT)
            return SendResult("not_sent" if never_left else "uncertain", error=text)
        if isinstance(error, TelegramError):
            return SendResult("bad_request", error=text)
        # Not Telegram's answer at all (a bug, a cancelled task…): the request may have left.
        log.error("unexpected error while sending: %s", text, exc_info=error)
        return SendResult("uncertain", error=text)


def retry_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():
        # PTB 22 warns that the int will become a timedelta; both are handled here.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class ConsoleSender:
    """Console mode: prints what would be sent; nothing leaves the machine."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self._next_id = 0

    async def send(self, chat_id: int, message: Rendered) -> SendResult:
        self._next_id += 1
        print(f"--- message to chat {chat_id}\n{to_console(message.text)}\n", file=self.out)
        return SendResult("sent", message_id=self._next_id)

    async def edit(self, chat_id: int, message_id: int, message: Rendered) -> SendResult:
        print(
            f"--- message {message_id} in chat {chat_id}, edited\n{to_console(message.text)}\n",
            file=self.out,
        )
        return SendResult("sent", message_id=message_id)
