"""Every text the bot says, in Russian and English.

A text is a `str.format` template; templates that end up in HTML messages get their values
escaped by the caller (bot/render.py), never here.
"""

from __future__ import annotations

from types import MappingProxyType

LANGUAGES = ("ru", "en")

_EN = {
    "welcome": (
        "You are subscribed. I will send each new story about people prosecuted in Russia "
        "for their posts online — reposts, memes, likes, comments, videos — once, with every "
        "outlet that reported it.\n\n"
        "Stories from now on only; want the last day's digest now?\n\n"
        "/lang — Russian, English or both · /settings — alerts and the daily digest · "
        "/help — all commands"
    ),
    "welcome_back": "You are subscribed already. /settings shows what you get.",
    "offer_digest": "Send the last day's digest",
    "stopped": "Unsubscribed. Nothing more will be sent; /start brings you back.",
    "not_subscribed": "You are not subscribed. Send /start to subscribe.",
    "help": (
        "RepostWatch follows Russian and English news about prosecutions for online posts.\n\n"
        "/start — subscribe\n"
        "/stop — unsubscribe\n"
        "/lang — stories in Russian, English or both; the bot's language\n"
        "/digest — the last 24 hours now\n"
        "/settings — instant alerts, daily digest and its time\n"
        "/help — this text"
    ),
    "help_moderator": (
        "\n\nModerators:\n"
        "/review — the articles the model is least sure about, to label\n"
        "/retrain — train on the labels; the new model is used only if it is not worse\n"
        "/stats — counts, the model and its figures\n"
        "Buttons under alerts label a story relevant or not; pressing the other one changes it."
    ),
    "lang_prompt": (
        "Stories you get: {story_langs}.\nBot language: English.\n\nChoose the stories' languages:"
    ),
    "lang_set": "Stories you get now: {story_langs}.",
    "ui_set": "The bot speaks English now.",
    "lang_usage": "Use /lang ru, /lang en or /lang both — or the buttons.",
    "story_langs_ru": "in Russian",
    "story_langs_en": "in English",
    "story_langs_both": "in Russian and English",
    "button_story_ru": "Russian",
    "button_story_en": "English",
    "button_story_both": "Both",
    "button_ui": "Бот по-русски",
    "settings": (
        "Instant alerts: {alerts}\nDaily digest: {digest}, at {time} ({timezone})\n\n"
        "Another time: /settings time HH:MM"
    ),
    "on": "on",
    "off": "off",
    "button_alerts_on": "Alerts: on → turn off",
    "button_alerts_off": "Alerts: off → turn on",
    "button_digest_on": "Digest: on → turn off",
    "button_digest_off": "Digest: off → turn on",
    "settings_time_bad": "I could not read {value!r} as a time; send e.g. /settings time 08:30",
    "settings_time_set": "The daily digest comes at {time} ({timezone}).",
    "sources": "Sources ({count}):",
    "more_sources": "…and {count} more",
    "lang_ru": "RU",
    "lang_en": "EN",
    "label_relevant": "✅ Relevant",
    "label_irrelevant": "❌ Not relevant",
    "label_state_relevant": "Label: relevant",
    "label_state_irrelevant": "Label: not relevant",
    "label_by": " ({who})",
    "label_saved_relevant": "Saved: relevant",
    "label_saved_irrelevant": "Saved: not relevant",
    "moderators_only": "Sorry, only moderators can do that.",
    "digest_title": "Digest for {day}",
    "digest_count": "{count} {stories} in the last 24 hours",
    "story_one": "story",
    "story_many": "stories",
    "digest_group_ru": "In Russian ({count})",
    "digest_group_en": "In English ({count})",
    "digest_more_sources": "+{count}",
    "digest_empty": "No new stories in the last 24 hours.",
    "digest_continued": "(continued)",
    "review_empty": "Nothing to review: no unlabelled recent articles with a score.",
    "review_header": "{count} articles closest to the threshold {threshold:.2f}:",
    "review_score": "score {score:.2f}",
    "retrain_started": "Training on the labels; this may take a minute…",
    "retrain_busy": "A training run is in progress already.",
    "retrain_failed": "Training failed: {error}",
    "retrain_unavailable": "Training is not available in this build.",
    "stats_unavailable": "not available",
    "stats_subscribers": "Subscribers: {active} active of {total}",
    "stats_content": "Articles: {articles} · stories: {stories} · labels: {labels}",
    "stats_outbox": "Messages: {outbox}",
    "stats_model": "Model {version}: threshold {threshold:.2f}, {examples} training examples",
    "stats_no_model": "No active model yet.",
    "retrain_activated": "New model {version} is active.",
    "retrain_kept": "The current model stays: the new one was not better.",
    "retrain_unchanged": "Nothing new to learn from: the active model was trained on these labels.",
    "throttled": "Too many commands at once; I will answer again in a few seconds.",
    "error": "Something went wrong on my side; please try again later.",
    "unknown_action": "This button is out of date.",
    "cmd_start": "subscribe to alerts",
    "cmd_stop": "unsubscribe",
    "cmd_help": "what the bot does",
    "cmd_lang": "stories in Russian, English or both",
    "cmd_digest": "the last 24 hours now",
    "cmd_settings": "alerts, daily digest and its time",
    "cmd_review": "label the articles the model is least sure about",
    "cmd_retrain": "retrain the model on the labels",
    "cmd_stats": "counts and model figures",
}

_RU = {
    "welcome": (
        "Вы подписаны. Я буду присылать каждую новую историю о преследовании в России за "
        "публикации в интернете — репосты, мемы, лайки, комментарии, видео — один раз, со "
        "всеми изданиями, которые о ней написали.\n\n"
        "Присылаю только новое; показать дайджест за последние сутки?\n\n"
        "/lang — русский, английский или оба · /settings — уведомления и дайджест · "
        "/help — все команды"
    ),
    "welcome_back": "Вы уже подписаны. Что вы получаете, видно в /settings.",
    "offer_digest": "Прислать дайджест за сутки",
    "stopped": "Подписка отменена. Больше ничего не пришлю; вернуться — /start.",
    "not_subscribed": "Вы не подписаны. Чтобы подписаться, отправьте /start.",
    "help": (
        "RepostWatch следит за русскими и английскими новостями о преследовании за "
        "публикации в интернете.\n\n"
        "/start — подписаться\n"
        "/stop — отписаться\n"
        "/lang — истории на русском, английском или обоих; язык бота\n"
        "/digest — последние 24 часа сейчас\n"
        "/settings — мгновенные уведомления, ежедневный дайджест и его время\n"
        "/help — эта справка"
    ),
    "help_moderator": (
        "\n\nМодераторам:\n"
        "/review — статьи, в которых модель сомневается больше всего, для разметки\n"
        "/retrain — обучить модель на разметке; новая включается, только если она не хуже\n"
        "/stats — счётчики, модель и её показатели\n"
        "Кнопки под уведомлениями отмечают историю как относящуюся к теме или нет; "
        "нажатие другой кнопки меняет отметку."
    ),
    "lang_prompt": (
        "Вы получаете истории {story_langs}.\nЯзык бота: русский.\n\nВыберите языки историй:"
    ),
    "lang_set": "Теперь вы получаете истории {story_langs}.",
    "ui_set": "Теперь бот говорит по-русски.",
    "lang_usage": "Используйте /lang ru, /lang en или /lang both — или кнопки.",
    "story_langs_ru": "на русском",
    "story_langs_en": "на английском",
    "story_langs_both": "на русском и английском",
    "button_story_ru": "Русские",
    "button_story_en": "Английские",
    "button_story_both": "Все",
    "button_ui": "Bot in English",
    "settings": (
        "Мгновенные уведомления: {alerts}\nЕжедневный дайджест: {digest}, в {time} "
        "({timezone})\n\nДругое время: /settings time ЧЧ:ММ"
    ),
    "on": "включены",
    "off": "выключены",
    "button_alerts_on": "Уведомления: вкл → выключить",
    "button_alerts_off": "Уведомления: выкл → включить",
    "button_digest_on": "Дайджест: вкл → выключить",
    "button_digest_off": "Дайджест: выкл → включить",
    "settings_time_bad": "Не понимаю время {value!r}; отправьте, например, /settings time 08:30",
    "settings_time_set": "Ежедневный дайджест придёт в {time} ({timezone}).",
    "sources": "Источники ({count}):",
    "more_sources": "…и ещё {count}",
    "lang_ru": "RU",
    "lang_en": "EN",
    "label_relevant": "✅ По теме",
    "label_irrelevant": "❌ Не по теме",
    "label_state_relevant": "Отметка: по теме",
    "label_state_irrelevant": "Отметка: не по теме",
    "label_by": " ({who})",
    "label_saved_relevant": "Сохранено: по теме",
    "label_saved_irrelevant": "Сохранено: не по теме",
    "moderators_only": "Извините, это могут делать только модераторы.",
    "digest_title": "Дайджест за {day}",
    "digest_count": "{count} {stories} за последние 24 часа",
    "story_one": "история",
    "story_few": "истории",
    "story_many": "историй",
    "digest_group_ru": "На русском ({count})",
    "digest_group_en": "На английском ({count})",
    "digest_more_sources": "+{count}",
    "digest_empty": "За последние 24 часа новых историй нет.",
    "digest_continued": "(продолжение)",
    "review_empty": "Размечать нечего: нет свежих неразмеченных статей с оценкой.",
    "review_header": "{count} статей ближе всего к порогу {threshold:.2f}:",
    "review_score": "оценка {score:.2f}",
    "retrain_started": "Обучаю на разметке; это может занять минуту…",
    "retrain_busy": "Обучение уже идёт.",
    "retrain_failed": "Обучение не удалось: {error}",
    "retrain_unavailable": "Обучение в этой сборке недоступно.",
    "stats_unavailable": "нет данных",
    "stats_subscribers": "Подписчики: {active} активных из {total}",
    "stats_content": "Статьи: {articles} · истории: {stories} · отметки: {labels}",
    "stats_outbox": "Сообщения: {outbox}",
    "stats_model": "Модель {version}: порог {threshold:.2f}, {examples} обучающих примеров",
    "stats_no_model": "Активной модели пока нет.",
    "retrain_activated": "Новая модель {version} включена.",
    "retrain_kept": "Остаётся прежняя модель: новая оказалась не лучше.",
    "retrain_unchanged": "Учиться не на чем: активная модель обучена на этой же разметке.",
    "throttled": "Слишком много команд подряд; отвечу снова через несколько секунд.",
    "error": "У меня что-то сломалось; попробуйте позже.",
    "unknown_action": "Эта кнопка устарела.",
    "cmd_start": "подписаться на уведомления",
    "cmd_stop": "отписаться",
    "cmd_help": "что умеет бот",
    "cmd_lang": "истории на русском, английском или обоих",
    "cmd_digest": "последние 24 часа сейчас",
    "cmd_settings": "уведомления, дайджест и его время",
    "cmd_review": "разметить статьи, в которых модель сомневается",
    "cmd_retrain": "переобучить модель на разметке",
    "cmd_stats": "счётчики и показатели модели",
}

TEXTS = MappingProxyType({"en": MappingProxyType(_EN), "ru": MappingProxyType(_RU)})

USER_COMMANDS = ("start", "stop", "help", "lang", "digest", "settings")
MODERATOR_COMMANDS = ("review", "retrain", "stats")


def ui_language(language_code: str | None) -> str:
    """The bot's language for a Telegram user: Russian for `ru*`, English otherwise."""
    return "ru" if (language_code or "").lower().startswith("ru") else "en"


def text(lang: str, key: str, **values: object) -> str:
    template = TEXTS.get(lang, TEXTS["en"]).get(key) or TEXTS["en"][key]
    return template.format(**values) if values else template


def stories_word(lang: str, count: int) -> str:
    """'story'/'stories'; in Russian the three plural forms."""
    if lang != "ru":
        return text(lang, "story_one" if count == 1 else "story_many")
    if count % 10 == 1 and count % 100 != 11:
        return text(lang, "story_one")
    if count % 10 in (2, 3, 4) and count % 100 not in (12, 13, 14):
        return text(lang, "story_few")
    return text(lang, "story_many")


def command_descriptions(lang: str, *, moderator: bool = False) -> list[tuple[str, str]]:
    """(command, description) pairs for setMyCommands."""
    names = USER_COMMANDS + (MODERATOR_COMMANDS if moderator else ())
    return [(name, text(lang, f"cmd_{name}")) for name in names]
