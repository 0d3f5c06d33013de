"""Keep the bot token out of logs and error texts.

httpx and httpcore log every request URL at INFO/DEBUG, and Bot API URLs carry the token
(`…/bot<token>/sendMessage`); exceptions can quote them too. Their loggers are raised to
WARNING, and a filter on the log handlers rewrites any record that still holds a secret.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import traceback
from collections.abc import Iterable

NOISY_LOGGERS = ("httpx", "httpcore")
MASK = "<redacted>"


class Redactor:
    """Replaces each secret (and its URL-encoded form) with a mask."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        found = {secret for secret in secrets if secret}
        # The token's secret half alone is enough to abuse it; mask it wherever it appears.
        found |= {secret.split(":", 1)[1] for secret in list(found) if ":" in secret}
        found |= {secret.replace(":", "%3A") for secret in list(found)}
        patterns = sorted((re.escape(secret) for secret in found if len(secret) >= 8), key=len)
        self._pattern = re.compile("|".join(reversed(patterns))) if patterns else None

    def __call__(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(MASK, text)


class RedactingFilter(logging.Filter):
    """A handler filter: the message, its arguments and any traceback are masked."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def protect_logs(token: str | None, logger: logging.Logger | None = None) -> Redactor:
    """Quiet the URL-logging libraries and mask the token in every handler of `logger`."""
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    redact = Redactor([token])
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(existing, RedactingFilter) for existing in handler.filters):
            handler.addFilter(RedactingFilter(redact))
    return redact


def protect_tracebacks(redact: Redactor) -> None:
    """Mask the token in tracebacks that bypass logging: an exception nobody caught, in the
    main thread or another one, is printed by these hooks instead of Python's own. (The Bot
    API client quotes the token when the server rejects it.)"""

    def write(kind: type[BaseException], value: BaseException, tb: object) -> None:
        sys.stderr.write(redact("".join(traceback.format_exception(kind, value, tb))))

    sys.excepthook = write
    threading.excepthook = lambda args: write(args.exc_type, args.exc_value, args.exc_traceback)
