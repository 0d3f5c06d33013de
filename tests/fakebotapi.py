"""A fake Telegram Bot API server on loopback, for python-telegram-bot to talk to via base_url.

It answers the methods the bot uses (getMe, getUpdates, sendMessage, editMessageText,
editMessageReplyMarkup, answerCallbackQuery, setMyCommands, getMyCommands, deleteWebhook …),
serves scripted updates by long polling, records every call, checks message HTML the way
Telegram does, and can be told to fail: 429 with retry_after, 403, 400, a chat migration, or
a hang after the message was taken (the response never comes in time). It can also enforce
N messages per second overall, answering 429 beyond, like Telegram's flood control.

    with FakeBotAPI() as api:
        app = Application.builder().token(api.token).base_url(api.base_url).build()
        api.command("/start", user_id=42, language_code="ru")
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

from tests.telegram_html import TelegramHTMLError, check

MESSAGE_METHODS = {"sendMessage", "editMessageText"}  # what flood control counts
BOT_USER = {
    "id": 700000001,
    "is_bot": True,
    "first_name": "RepostWatch",
    "username": "repostwatch_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


@dataclass
class Call:
    """One request as the fake received it, and the HTTP status it answered."""

    method: str
    params: dict
    at: float
    status: int = 200


@dataclass
class Failure:
    """A scripted answer for the next `times` matching calls."""

    method: str
    kind: str  # "429", "403", "400", "migrate", "hang"
    chat_id: int | None = None
    times: int = 1
    retry_after: int = 1
    migrate_to: int | None = None
    description: str = ""
    hang_seconds: float = 30.0


@dataclass
class Message:
    chat_id: int
    message_id: int
    html: str
    text: str
    reply_markup: dict | None
    order: int  # when the fake accepted it, across chats
    edits: int = 0

    def buttons(self) -> list[list[tuple[str, str]]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [
            [(button["text"], button.get("callback_data", "")) for button in row] for row in rows
        ]


class FakeBotAPI:
    def __init__(
        self,
        token: str = "123456789:AAFakeTokenForTestsOnly-do-not-use",
        *,
        rate_limit: float | None = None,
        latency: float = 0.0,
        random_429: float = 0.0,
        seed: int = 0,
        max_poll_wait: float = 0.5,
    ) -> None:
        self.token = token
        self.rate_limit = rate_limit
        self.latency = latency
        self.random_429 = random_429
        self.max_poll_wait = max_poll_wait
        self.calls: list[Call] = []
        self.messages: dict[int, dict[int, Message]] = {}
        self.commands: dict[tuple[str, str], list[dict]] = {}
        self.failures: list[Failure] = []
        self.early_requests = 0  # messages sent while a retry_after was still running
        self.rate_429s = 0
        self.injected_429s = 0
        self._random = random.Random(seed)
        self._lock = threading.Condition()
        self._updates: list[dict] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count] = {}
        self._user_message_ids = itertools.count(10_000)
        self._callback_ids = itertools.count(1)
        self._order = itertools.count(1)
        self._tokens = float(rate_limit or 0)
        self._tokens_at = time.monotonic()
        self._blocked_until = 0.0
        self._release_hangs = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> FakeBotAPI:
        api = self

        class Handler(_Handler):
            fake = api

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release_hangs.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeBotAPI:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """What python-telegram-bot's `base_url` takes: the token is appended to it."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/bot"

    # -- scripting -------------------------------------------------------------------------------

    def fail(self, method: str, kind: str, **options: object) -> None:
        """Answer the next matching call(s) of `method` with a failure (see `Failure`)."""
        with self._lock:
            self.failures.append(Failure(method, kind, **options))

    def end_flood_wait(self) -> None:
        with self._lock:
            self._blocked_until = 0.0

    def release_hangs(self) -> None:
        self._release_hangs.set()

    def push_update(self, update: dict) -> int:
        with self._lock:
            update_id = next(self._update_ids)
            self._updates.append({"update_id": update_id, **update})
            self._lock.notify_all()
        return update_id

    def command(
        self,
        text: str,
        *,
        user_id: int,
        chat_id: int | None = None,
        language_code: str | None = "en",
        first_name: str = "Tester",
    ) -> int:
        """A user's message starting with a /command, as Telegram delivers it."""
        chat_id = user_id if chat_id is None else chat_id
        command = text.split()[0]
        message = {
            "message_id": next(self._user_message_ids),
            "date": int(time.time()),
            "chat": _chat(chat_id, first_name),
            "from": _user(user_id, first_name, language_code),
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
        }
        return self.push_update({"message": message})

    def press(
        self,
        message: Message,
        data: str,
        *,
        user_id: int,
        language_code: str | None = "en",
        first_name: str = "Tester",
    ) -> str:
        """A user pressing an inline button under one of the bot's messages."""
        callback_id = str(next(self._callback_ids))
        self.push_update(
            {
                "callback_query": {
                    "id": callback_id,
                    "from": _user(user_id, first_name, language_code),
                    "chat_instance": f"ci-{message.chat_id}",
                    "data": data,
                    "message": self._message_json(message),
                }
            }
        )
        return callback_id

    # -- inspection ------------------------------------------------------------------------------

    def calls_to(self, method: str, *, ok: bool | None = None) -> list[Call]:
        with self._lock:
            return [
                call
                for call in self.calls
                if call.method == method and (ok is None or (call.status == 200) == ok)
            ]

    def sent(self, chat_id: int | None = None) -> list[Message]:
        """Messages the fake accepted, in the order it accepted them."""
        with self._lock:
            everything = [
                message
                for chat in self.messages.values()
                for message in chat.values()
                if chat_id is None or message.chat_id == chat_id
            ]
        return sorted(everything, key=lambda message: message.order)

    def last(self, chat_id: int) -> Message:
        with self._lock:
            chat = self.messages.get(chat_id) or {}
            if not chat:
                raise AssertionError(f"nothing was sent to chat {chat_id}")
            return chat[max(chat)]

    async def wait_for(self, predicate: Callable[[], object], timeout: float = 5.0) -> object:
        """Wait (without blocking the event loop) until predicate() is truthy."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() > deadline:
                methods = [(call.method, call.status) for call in self.calls[-15:]]
                raise AssertionError(f"timed out waiting; last calls: {methods}")
            await asyncio.sleep(0.01)

    async def wait_messages(self, chat_id: int, count: int, timeout: float = 5.0) -> list[Message]:
        await self.wait_for(lambda: len(self.sent(chat_id)) >= count, timeout)
        return self.sent(chat_id)

    def pending_updates(self) -> int:
        with self._lock:
            return len(self._updates)

    # -- the API ---------------------------------------------------------------------------------

    def handle(self, method: str, params: dict) -> tuple[int, dict]:
        call = Call(method, params, time.monotonic())
        with self._lock:
            self.calls.append(call)
        status, body = self._answer(method, params)
        call.status = status
        return status, body

    def _answer(self, method: str, params: dict) -> tuple[int, dict]:
        if method == "getUpdates":
            return 200, _ok(self._get_updates(params))
        if method in MESSAGE_METHODS:
            limited = self._flood_control()
            if limited:
                return limited
        failure = self._take_failure(method, params)
        if failure and failure.kind != "hang":
            return _failure_reply(failure)
        if self.latency and method in MESSAGE_METHODS:
            time.sleep(self.latency)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return 404, _error(404, "Not Found: method not found")
        status, body = handler(params)
        if failure:  # a hang: the work is done, the answer never comes in time
            self._release_hangs.wait(failure.hang_seconds)
        return status, body

    def _take_failure(self, method: str, params: dict) -> Failure | None:
        chat_id = _int_or_none(params.get("chat_id"))
        with self._lock:
            for failure in self.failures:
                if (
                    failure.method == method
                    and failure.times > 0
                    and failure.chat_id in (None, chat_id)
                ):
                    failure.times -= 1
                    if failure.kind == "429":
                        self._blocked_until = max(
                            self._blocked_until, time.monotonic() + failure.retry_after
                        )
                    return failure
        return None

    def _flood_control(self) -> tuple[int, dict] | None:
        with self._lock:
            now = time.monotonic()
            if now < self._blocked_until:
                self.early_requests += 1
                return _too_many(max(1, round(self._blocked_until - now)))
            if self.random_429 and self._random.random() < self.random_429:
                self.injected_429s += 1
                self._blocked_until = now + 1
                return _too_many(1)
            if self.rate_limit:
                self._tokens = min(
                    self.rate_limit, self._tokens + (now - self._tokens_at) * self.rate_limit
                )
                self._tokens_at = now
                if self._tokens < 1:
                    self.rate_429s += 1
                    self._blocked_until = now + 1
                    return _too_many(1)
                self._tokens -= 1
        return None

    def _get_updates(self, params: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        wait = min(float(params.get("timeout") or 0), self.max_poll_wait)
        deadline = time.monotonic() + wait
        with self._lock:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and time.monotonic() < deadline:
                self._lock.wait(deadline - time.monotonic())
            return list(self._updates[:limit])

    def _m_getMe(self, params: dict) -> tuple[int, dict]:
        return 200, _ok(BOT_USER)

    def _m_deleteWebhook(self, params: dict) -> tuple[int, dict]:
        return 200, _ok(True)

    def _m_setMyCommands(self, params: dict) -> tuple[int, dict]:
        key = (
            json.dumps(_json(params, "scope") or {"type": "default"}, sort_keys=True),
            params.get("language_code", ""),
        )
        with self._lock:
            self.commands[key] = _json(params, "commands") or []
        return 200, _ok(True)

    def _m_getMyCommands(self, params: dict) -> tuple[int, dict]:
        key = (
            json.dumps(_json(params, "scope") or {"type": "default"}, sort_keys=True),
            params.get("language_code", ""),
        )
        with self._lock:
            return 200, _ok(self.commands.get(key, []))

    def _m_deleteMyCommands(self, params: dict) -> tuple[int, dict]:
        return 200, _ok(True)

    def _m_answerCallbackQuery(self, params: dict) -> tuple[int, dict]:
        return 200, _ok(True)

    def _m_sendMessage(self, params: dict) -> tuple[int, dict]:
        chat_id = _int_or_none(params.get("chat_id"))
        if chat_id is None:
            return 400, _error(400, "Bad Request: chat not found")
        parsed = _parse_text(params)
        if isinstance(parsed, tuple) and isinstance(parsed[0], int):
            return parsed
        with self._lock:
            ids = self._message_ids.setdefault(chat_id, itertools.count(1))
            message = Message(
                chat_id=chat_id,
                message_id=next(ids),
                html=params.get("text", ""),
                text=parsed,
                reply_markup=_json(params, "reply_markup"),
                order=next(self._order),
            )
            self.messages.setdefault(chat_id, {})[message.message_id] = message
        return 200, _ok(self._message_json(message))

    def _m_editMessageText(self, params: dict) -> tuple[int, dict]:
        parsed = _parse_text(params)
        if isinstance(parsed, tuple) and isinstance(parsed[0], int):
            return parsed
        return self._edit(params, text=parsed, html=params.get("text", ""))

    def _m_editMessageReplyMarkup(self, params: dict) -> tuple[int, dict]:
        return self._edit(params)

    def _edit(
        self, params: dict, *, text: str | None = None, html: str | None = None
    ) -> tuple[int, dict]:
        chat_id = _int_or_none(params.get("chat_id"))
        message_id = _int_or_none(params.get("message_id"))
        markup = _json(params, "reply_markup")
        with self._lock:
            message = self.messages.get(chat_id, {}).get(message_id)
            if message is None:
                return 400, _error(400, "Bad Request: message to edit not found")
            new_html = message.html if html is None else html
            if new_html == message.html and markup == message.reply_markup:
                return 400, _error(
                    400,
                    "Bad Request: message is not modified: specified new message content and "
                    "reply markup are exactly the same as a current content and reply markup "
                    "of the message",
                )
            message.html = new_html
            message.text = message.text if text is None else text
            message.reply_markup = markup
            message.edits += 1
            return 200, _ok(self._message_json(message))

    def _message_json(self, message: Message) -> dict:
        body = {
            "message_id": message.message_id,
            "date": int(time.time()),
            "chat": _chat(message.chat_id, "Tester"),
            "from": BOT_USER,
            "text": message.text,
        }
        if message.reply_markup:
            body["reply_markup"] = message.reply_markup
        return body


class _Handler(BaseHTTPRequestHandler):
    fake: FakeBotAPI
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx expects
    disable_nagle_algorithm = True  # or each answer waits 40 ms for a delayed ACK

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        prefix = f"/bot{self.fake.token}/"
        if not self.path.startswith(prefix):
            self._reply(404, _error(404, "Not Found"))
            return
        method = self.path[len(prefix) :].split("?")[0]
        params = _params(raw, self.headers.get("Content-Type", ""))
        status, body = self.fake.handle(method, params)
        self._reply(status, body)

    do_GET = do_POST

    def _reply(self, status: int, body: dict) -> None:
        payload = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a scripted hang); nothing to tell it

    def log_message(self, format: str, *args: object) -> None:
        pass  # the URL holds the token; and tests read the fake's records instead


def _params(raw: bytes, content_type: str) -> dict:
    if not raw:
        return {}
    if content_type.startswith("application/json"):
        return {
            key: value if isinstance(value, str) else json.dumps(value)
            for key, value in json.loads(raw).items()
        }
    return dict(parse_qsl(raw.decode(), keep_blank_values=True))


def _json(params: dict, name: str) -> object:
    value = params.get(name)
    return json.loads(value) if value else None


def _int_or_none(value: object) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _parse_text(params: dict) -> str | tuple[int, dict]:
    """The message text as Telegram would show it, or the 400 Telegram would answer."""
    text = params.get("text", "")
    if params.get("parse_mode") == "HTML":
        try:
            text, _ = check(text)
        except TelegramHTMLError as error:
            return 400, _error(400, f"Bad Request: can't parse entities: {error}")
    if not text.strip():
        return 400, _error(400, "Bad Request: message text is empty")
    if len(text.encode("utf-16-le")) // 2 > 4096:
        return 400, _error(400, "Bad Request: message is too long")
    return text


def _failure_reply(failure: Failure) -> tuple[int, dict]:
    if failure.kind == "429":
        return _too_many(failure.retry_after)
    if failure.kind == "403":
        return 403, _error(403, failure.description or "Forbidden: bot was blocked by the user")
    if failure.kind == "migrate":
        body = _error(400, "Bad Request: group chat was upgraded to a supergroup chat")
        body["parameters"] = {"migrate_to_chat_id": failure.migrate_to}
        return 400, body
    return 400, _error(400, failure.description or "Bad Request: chat not found")


def _too_many(retry_after: int) -> tuple[int, dict]:
    body = _error(429, f"Too Many Requests: retry after {retry_after}")
    body["parameters"] = {"retry_after": retry_after}
    return 429, body


def _ok(result: object) -> dict:
    return {"ok": True, "result": result}


def _error(code: int, description: str) -> dict:
    return {"ok": False, "error_code": code, "description": description}


def _chat(chat_id: int, first_name: str) -> dict:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": first_name}
    return {"id": chat_id, "type": "supergroup", "title": "Test group"}


def _user(user_id: int, first_name: str, language_code: str | None) -> dict:
    user = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code:
        user["language_code"] = language_code
    return user
