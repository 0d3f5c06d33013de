"""Telegram handlers: each parses the update, calls a service, renders a reply."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import time, tzinfo

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    CallbackQuery,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.digest import reader_of
from bot.moderation import Moderation, RetrainBusy
from bot.render import (
    Button,
    Rendered,
    render_alert,
    render_retrained,
    render_review_item,
    render_stats,
)
from bot.sender import keyboard
from bot.service import Subscriptions
from bot.texts import command_descriptions, text
from bot.throttle import CommandThrottle
from storage.records import Subscriber

log = logging.getLogger(__name__)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
DIGEST_TIMES = ("07:00", "09:00", "12:00", "18:00", "21:00")
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


@dataclass(frozen=True)
class Services:
    """What the handlers use, kept in `application.bot_data["services"]`."""

    subscriptions: Subscriptions
    moderation: Moderation
    throttle: CommandThrottle
    tz: tzinfo
    timezone_name: str


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.bot_data["services"]


async def language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    user = update.effective_user
    code = user.language_code if user else None
    return await services(context).subscriptions.language(update.effective_chat.id, code)


async def say(update: Update, message: str, **options: object) -> None:
    await update.effective_message.reply_text(message, **options)


async def say_html(update: Update, rendered: Rendered) -> None:
    await update.effective_message.reply_text(
        rendered.text,
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard(rendered.buttons),
        link_preview_options=NO_PREVIEW,
    )


async def edit(query: CallbackQuery, message: str, buttons=(), *, html: bool = False) -> None:
    """Replace a message's text and buttons; pressing the same button twice changes nothing."""
    try:
        await query.edit_message_text(
            message,
            parse_mode=ParseMode.HTML if html else None,
            reply_markup=keyboard(buttons),
            link_preview_options=NO_PREVIEW,
        )
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise


# -- guards ---------------------------------------------------------------------------------------


async def throttle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Group -1: a user over their command budget gets one notice, then silence."""
    user = update.effective_user
    message = update.message
    is_command = bool(message and message.text and message.text.startswith("/"))
    if user is None or not (is_command or update.callback_query):
        return
    verdict = services(context).throttle.check(user.id)
    if verdict == "ok":
        return
    if verdict == "warn" and is_command:
        await say(update, text(await language(update, context), "throttled"))
    raise ApplicationHandlerStop


def moderators_only(handler: Handler) -> Handler:
    """Anyone else gets a polite refusal, and nothing changes."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        if services(context).subscriptions.is_moderator(user.id if user else None):
            await handler(update, context)
            return
        refusal = text(await language(update, context), "moderators_only")
        if update.callback_query:
            await update.callback_query.answer(refusal, show_alert=True)
        else:
            await say(update, refusal)

    return guarded


# -- subscribers ----------------------------------------------------------------------------------


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    subscriber, started = await services(context).subscriptions.start(
        update.effective_chat.id, user.id if user else None, user.language_code if user else None
    )
    lang = subscriber.ui_lang
    if not started:
        await say(update, text(lang, "welcome_back"))
        return
    offer = ((Button(text(lang, "offer_digest"), "digest:now"),),)
    await say(update, text(lang, "welcome"), reply_markup=keyboard(offer))


async def stop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    stopped = await services(context).subscriptions.stop(update.effective_chat.id)
    await say(
        update, text(await language(update, context), "stopped" if stopped else "not_subscribed")
    )


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    lang = await language(update, context)
    user = update.effective_user
    extra = ""
    if services(context).subscriptions.is_moderator(user.id if user else None):
        extra = text(lang, "help_moderator")
    await say(update, text(lang, "help") + extra)


async def lang_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    subscriptions = services(context).subscriptions
    chat_id = update.effective_chat.id
    subscriber = await subscriptions.subscriber(chat_id)
    if subscriber is None:
        await say(update, text(await language(update, context), "not_subscribed"))
        return
    if context.args:
        choice = context.args[0].lower()
        if choice not in ("ru", "en", "both"):
            await say(update, text(subscriber.ui_lang, "lang_usage"))
            return
        subscriber = await subscriptions.update(chat_id, story_langs=choice)
        await say(update, _lang_set(subscriber))
        return
    await say(update, _lang_prompt(subscriber), reply_markup=keyboard(_lang_buttons(subscriber)))


async def lang_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    _, what, value = query.data.split(":")
    setting = {"s": "story_langs", "ui": "ui_lang"}[what]
    subscriber = await services(context).subscriptions.update(
        update.effective_chat.id, **{setting: value}
    )
    if subscriber is None:
        await query.answer(text(await language(update, context), "not_subscribed"), show_alert=True)
        return
    await query.answer(_lang_set(subscriber) if what == "s" else text(value, "ui_set"))
    await edit(query, _lang_prompt(subscriber), _lang_buttons(subscriber))


def _lang_set(subscriber: Subscriber) -> str:
    langs = text(subscriber.ui_lang, f"story_langs_{subscriber.story_langs}")
    return text(subscriber.ui_lang, "lang_set", story_langs=langs)


def _lang_prompt(subscriber: Subscriber) -> str:
    langs = text(subscriber.ui_lang, f"story_langs_{subscriber.story_langs}")
    return text(subscriber.ui_lang, "lang_prompt", story_langs=langs)


def _lang_buttons(subscriber: Subscriber) -> tuple[tuple[Button, ...], ...]:
    lang = subscriber.ui_lang
    stories = tuple(
        Button(
            _marked(text(lang, f"button_story_{choice}"), subscriber.story_langs == choice),
            f"lang:s:{choice}",
        )
        for choice in ("ru", "en", "both")
    )
    other = "en" if lang == "ru" else "ru"
    return (stories, (Button(text(lang, "button_ui"), f"lang:ui:{other}"),))


def _marked(label: str, chosen: bool) -> str:
    return f"• {label} •" if chosen else label


async def settings_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    found = services(context)
    chat_id = update.effective_chat.id
    subscriber = await found.subscriptions.subscriber(chat_id)
    if subscriber is None:
        await say(update, text(await language(update, context), "not_subscribed"))
        return
    if context.args and context.args[0].lower() == "time":
        value = " ".join(context.args[1:])
        chosen = _clock(value)
        if chosen is None:
            await say(update, text(subscriber.ui_lang, "settings_time_bad", value=value))
            return
        subscriber = await found.subscriptions.update(chat_id, digest_time=chosen)
        await say(
            update,
            text(
                subscriber.ui_lang,
                "settings_time_set",
                time=chosen.strftime("%H:%M"),
                timezone=found.timezone_name,
            ),
        )
        return
    await say(
        update,
        _settings_text(found, subscriber),
        reply_markup=keyboard(_settings_buttons(found, subscriber)),
    )


async def settings_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    found = services(context)
    chat_id = update.effective_chat.id
    parts = query.data.split(":")
    if parts[1] in ("alerts", "digest"):
        subscriber = await found.subscriptions.toggle(chat_id, parts[1])
    else:
        subscriber = await found.subscriptions.update(chat_id, digest_time=_clock(parts[2]))
    if subscriber is None:
        await query.answer(text(await language(update, context), "not_subscribed"), show_alert=True)
        return
    await query.answer()
    await edit(query, _settings_text(found, subscriber), _settings_buttons(found, subscriber))


def _settings_text(found: Services, subscriber: Subscriber) -> str:
    lang = subscriber.ui_lang
    return text(
        lang,
        "settings",
        alerts=text(lang, "on" if subscriber.alerts else "off"),
        digest=text(lang, "on" if subscriber.digest else "off"),
        time=found.subscriptions.digest_time(subscriber).strftime("%H:%M"),
        timezone=found.timezone_name,
    )


def _settings_buttons(found: Services, subscriber: Subscriber) -> tuple[tuple[Button, ...], ...]:
    lang = subscriber.ui_lang
    current = found.subscriptions.digest_time(subscriber).strftime("%H:%M")
    alerts = "button_alerts_on" if subscriber.alerts else "button_alerts_off"
    digest = "button_digest_on" if subscriber.digest else "button_digest_off"
    times = tuple(
        Button(_marked(value, value == current), f"set:time:{value.replace(':', '')}")
        for value in DIGEST_TIMES
    )
    return (
        (Button(text(lang, alerts), "set:alerts"),),
        (Button(text(lang, digest), "set:digest"),),
        times,
    )


def _clock(value: str) -> time | None:
    """'8:30', '08:30', '0830' → 08:30; anything else → None."""
    match = re.fullmatch(r"\s*(\d{1,2}):?(\d{2})\s*", value)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        return None
    return time(int(match[1]), int(match[2]))


async def digest_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _send_digest(update, context)


async def digest_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.callback_query.answer()
    await _send_digest(update, context)


async def _send_digest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    chat_id = update.effective_chat.id
    parts = await services(context).subscriptions.digest_now(
        chat_id, user.language_code if user else None
    )
    for part in parts:
        await context.bot.send_message(
            chat_id, part, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW
        )


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await help_command(update, context)


async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.callback_query.answer(text(await language(update, context), "unknown_action"))


# -- moderators -----------------------------------------------------------------------------------


@moderators_only
async def label_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """label:s:<story>:<0|1> under an alert, label:a:<article>:<0|1> under a review item."""
    query = update.callback_query
    _, kind, ref, value = query.data.split(":")
    relevant = value == "1"
    found = services(context)
    user = update.effective_user
    lang = await language(update, context)
    subscriber = await found.subscriptions.subscriber(update.effective_chat.id)
    reader = reader_of(subscriber, found.tz, moderator=True, lang=lang)
    if kind == "s":
        story = await found.moderation.label_story(int(ref), relevant, user.id)
        rendered = story and render_alert(
            story, reader, label=relevant, labelled_by=user.first_name
        )
    else:
        article = await found.moderation.label_article(int(ref), relevant, user.id)
        threshold = await found.moderation.threshold()
        rendered = article and render_review_item(
            article, reader, threshold=threshold, label=relevant
        )
    if not rendered:
        await query.answer(text(lang, "unknown_action"), show_alert=True)
        return
    await query.answer(text(lang, "label_saved_relevant" if relevant else "label_saved_irrelevant"))
    await edit(query, rendered.text, rendered.buttons, html=True)


@moderators_only
async def review_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    found = services(context)
    lang = await language(update, context)
    review = await found.moderation.review()
    if not review.articles:
        await say(update, text(lang, "review_empty"))
        return
    await say(
        update, text(lang, "review_header", count=len(review.articles), threshold=review.threshold)
    )
    reader = reader_of(None, found.tz, moderator=True, lang=lang)
    for article in review.articles:
        await say_html(update, render_review_item(article, reader, threshold=review.threshold))


@moderators_only
async def retrain_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    lang = await language(update, context)
    await say(update, text(lang, "retrain_started"))
    # Training takes a while: the update is done now, the report follows when it is ready.
    context.application.create_task(_retrain_and_report(update, context, lang), update=update)


async def _retrain_and_report(
    update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str
) -> None:
    try:
        retrained = await services(context).moderation.retrain()
    except RetrainBusy:
        await say(update, text(lang, "retrain_busy"))
        return
    except Exception as error:
        log.exception("retraining failed")
        await say(update, text(lang, "retrain_failed", error=str(error)[:500]))
        return
    await update.effective_message.reply_text(
        render_retrained(retrained, lang), parse_mode=ParseMode.HTML
    )


@moderators_only
async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    lang = await language(update, context)
    stats = await services(context).moderation.stats()
    await update.effective_message.reply_text(render_stats(stats, lang), parse_mode=ParseMode.HTML)


# -- errors and wiring ------------------------------------------------------------------------------


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("handling update %s failed", update_id, exc_info=context.error)


def add_handlers(application: Application, found: Services) -> None:
    application.bot_data["services"] = found
    application.add_handler(TypeHandler(Update, throttle), group=-1)
    application.add_handlers(
        [
            CommandHandler("start", start),
            CommandHandler("stop", stop),
            CommandHandler("help", help_command),
            CommandHandler("lang", lang_command),
            CommandHandler("settings", settings_command),
            CommandHandler("digest", digest_command),
            CommandHandler("review", review_command),
            CommandHandler("retrain", retrain_command),
            CommandHandler("stats", stats_command),
            CallbackQueryHandler(label_button, pattern=r"^label:[sa]:\d+:[01]$"),
            CallbackQueryHandler(lang_button, pattern=r"^lang:(s:(ru|en|both)|ui:(ru|en))$"),
            CallbackQueryHandler(settings_button, pattern=r"^set:(alerts|digest|time:\d{4})$"),
            CallbackQueryHandler(digest_button, pattern=r"^digest:now$"),
            CallbackQueryHandler(stale_button),
            MessageHandler(filters.COMMAND, unknown_command),
        ]
    )
    application.add_error_handler(on_error)


async def register_commands(application: Application, moderators: frozenset[int]) -> None:
    """setMyCommands for everyone (English, and Russian for ru users), and the moderators'
    extra commands in their own chats."""
    bot = application.bot
    for lang, code in (("en", None), ("ru", "ru")):
        commands = [BotCommand(name, about) for name, about in command_descriptions(lang)]
        await bot.set_my_commands(commands, language_code=code)
        extended = [
            BotCommand(name, about) for name, about in command_descriptions(lang, moderator=True)
        ]
        for moderator in sorted(moderators):
            try:
                await bot.set_my_commands(
                    extended, scope=BotCommandScopeChat(moderator), language_code=code
                )
            except TelegramError as error:  # e.g. the moderator has not opened the bot yet
                log.warning("moderator %s: commands not set: %s", moderator, error)
