"""Telegram messages from stories, as HTML with every outside string escaped.

Pure functions: records in, `Rendered` out. Nothing here is ever longer than Telegram's
4096-character limit; text is shortened before it is escaped, so a cut never lands inside a
tag or an entity.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from urllib.parse import quote

from bot.moderation import Retrained, Stats
from bot.texts import stories_word, text
from storage.records import Article, Source, Story

MAX_LENGTH = 4096  # Telegram's limit for a message's text
TITLE_MAX = 300
SOURCE_TITLE_MAX = 160
SUMMARY_MAX = 1500
URL_MAX = 1000  # longer addresses are shown as text, not linked
URL_SAFE = ":/?#[]@!$&'()*+,;=%~"  # reserved characters stay; quotes, brackets, spaces don't
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Button:
    text: str
    data: str  # callback data, at most 64 bytes


@dataclass(frozen=True)
class Rendered:
    text: str  # HTML
    buttons: tuple[tuple[Button, ...], ...] = ()
    sources: int = 0  # how many of the story's sources the text lists
    preview: bool = False  # let Telegram show a preview of the first link


@dataclass(frozen=True)
class Reader:
    """Who a message is rendered for."""

    ui_lang: str = "en"
    story_langs: str = "both"
    tz: tzinfo = UTC
    moderator: bool = False


@dataclass(frozen=True)
class Lead:
    """The report a reader sees first: in their language when the story has one."""

    title: str
    url: str
    lang: str
    feed: str
    published: datetime | None


def telegram_length(value: str) -> int:
    """Length as Telegram counts it (UTF-16 code units); markup included, to be safe."""
    return len(value.encode("utf-16-le")) // 2


def esc(value: str) -> str:
    return html.escape(value, quote=True)


def link(label: str, url: str) -> str:
    """An <a> tag for web addresses; anything else (javascript:, data:, junk) stays text."""
    if re.match(r"https?://\S+$", url, re.IGNORECASE) and len(url) <= URL_MAX:
        return f'<a href="{esc(quote(url, safe=URL_SAFE))}">{esc(label)}</a>'
    return esc(label)


def shorten(value: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary with an ellipsis."""
    value = " ".join(value.split())
    if len(value) <= limit:
        return value
    if limit <= 1:
        return "…"[:limit]
    cut = value[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:—-") + "…"


def lead_of(story: Story, story_langs: str) -> Lead:
    sources = story.sources
    if story_langs in ("ru", "en") and story.lang != story_langs:
        for source in sources:
            if source.lang == story_langs:
                return _lead_from(source)
    for source in sources:
        if source.url == story.url:
            return _lead_from(source, title=story.title)
    feed = sources[0].feed if sources else ""
    published = sources[0].published if sources else None
    return Lead(story.title, story.url, story.lang, feed, published or story.created_at)


def _lead_from(source: Source, *, title: str | None = None) -> Lead:
    return Lead(title or source.title, source.url, source.lang, source.feed, source.published)


def format_time(moment: datetime, lang: str, tz: tzinfo) -> str:
    local = moment.astimezone(tz)
    if lang == "ru":
        return local.strftime("%d.%m.%Y, %H:%M")
    return f"{local.day} {MONTHS_EN[local.month - 1]} {local.year}, {local:%H:%M}"


def format_day(day: date, lang: str) -> str:
    return (
        day.strftime("%d.%m.%Y")
        if lang == "ru"
        else f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"
    )


# -- alerts ----------------------------------------------------------------------------------


def render_alert(
    story: Story, reader: Reader, *, label: bool | None = None, labelled_by: str | None = None
) -> Rendered:
    """The alert for one story: headline linked, outlet, language, date, summary, sources."""
    lead = lead_of(story, reader.story_langs)
    summary = story.summaries.get(lead.lang) or story.summaries.get(story.lang) or ""
    summary = shorten(summary, SUMMARY_MAX)
    buttons = label_buttons("s", story.id, reader.ui_lang, label) if reader.moderator else ()
    label_line = _label_line(reader.ui_lang, label, labelled_by) if reader.moderator else ""
    sources = story.sources
    title_limit = TITLE_MAX
    for listed in _source_counts(len(sources)):
        for summary_limit in _summary_limits(len(summary)):
            body = _alert_html(
                story,
                lead,
                reader,
                shorten(summary, summary_limit),
                listed,
                label_line,
                title_limit,
            )
            if telegram_length(body) <= MAX_LENGTH:
                return Rendered(body, buttons, sources=len(sources), preview=True)
    # Only absurdly long headlines and addresses get here: keep the message, drop the extras.
    while title_limit > 10:
        title_limit //= 2
        body = _alert_html(story, lead, reader, "", 0, label_line, title_limit)
        if telegram_length(body) <= MAX_LENGTH:
            break
    return Rendered(body, buttons, sources=len(sources), preview=True)


def _source_counts(total: int) -> list[int]:
    return [total, *(count for count in (20, 10, 5, 3, 1, 0) if count < total)]


def _summary_limits(length: int) -> list[int]:
    """Shorter and shorter summaries, down to a readable minimum (or none)."""
    limits = [length]
    while limits[-1] > 200:
        limits.append(limits[-1] * 3 // 4)
    return [*limits, 0] if length else limits


def _alert_html(
    story: Story,
    lead: Lead,
    reader: Reader,
    summary: str,
    listed: int,
    label_line: str,
    title_limit: int,
) -> str:
    lang = reader.ui_lang
    meta = [
        esc(lead.feed),
        text(lang, f"lang_{lead.lang}") if lead.lang in ("ru", "en") else esc(lead.lang),
    ]
    meta.append(format_time(lead.published or story.created_at, lang, reader.tz))
    parts = [f"<b>{link(shorten(lead.title, title_limit), lead.url)}</b>", " · ".join(meta)]
    if summary:
        parts.append("\n" + esc(summary))
    if listed and story.sources:
        lines = [f"\n<b>{esc(text(lang, 'sources', count=len(story.sources)))}</b>"]
        lines += [_source_line(source, lang) for source in story.sources[:listed]]
        if listed < len(story.sources):
            lines.append(esc(text(lang, "more_sources", count=len(story.sources) - listed)))
        parts.append("\n".join(lines))
    if label_line:
        parts.append("\n" + label_line)
    return "\n".join(parts)


def _source_line(source: Source, lang: str) -> str:
    language = text(lang, f"lang_{source.lang}") if source.lang in ("ru", "en") else source.lang
    title = shorten(source.title, SOURCE_TITLE_MAX)
    return f"• {link(source.feed, source.url)} · {esc(language)} — {esc(title)}"


def _label_line(lang: str, label: bool | None, labelled_by: str | None) -> str:
    if label is None:
        return ""
    state = text(lang, "label_state_relevant" if label else "label_state_irrelevant")
    who = text(lang, "label_by", who=labelled_by) if labelled_by else ""
    return f"<i>{esc(state + who)}</i>"


def label_buttons(
    kind: str, ref_id: int, lang: str, label: bool | None
) -> tuple[tuple[Button, ...], ...]:
    """The moderator's two buttons; the current label is marked with a dot."""
    relevant = text(lang, "label_relevant")
    irrelevant = text(lang, "label_irrelevant")
    if label is True:
        relevant = f"• {relevant} •"
    elif label is False:
        irrelevant = f"• {irrelevant} •"
    return (
        (
            Button(relevant, f"label:{kind}:{ref_id}:1"),
            Button(irrelevant, f"label:{kind}:{ref_id}:0"),
        ),
    )


# -- the daily digest ------------------------------------------------------------------------


def render_digest(
    stories: Sequence[Story], reader: Reader, *, day: date, limit: int = MAX_LENGTH
) -> list[str]:
    """The day's stories for one reader, grouped by language and counted, in as many
    messages as it takes, split between stories. No stories: one short message saying so."""
    lang = reader.ui_lang
    wanted = stories_for(reader, stories)
    title = f"<b>{esc(text(lang, 'digest_title', day=format_day(day, lang)))}</b>"
    if not wanted:
        return [f"{title}\n{esc(text(lang, 'digest_empty'))}"]
    count = text(lang, "digest_count", count=len(wanted), stories=stories_word(lang, len(wanted)))
    parts: list[list[str]] = [[title, esc(count)]]
    room = limit - 12  # for "(12/12) " in front of each part
    part_has_story = False
    for group_lang, group in _groups(wanted, reader):
        heading = esc(text(lang, f"digest_group_{group_lang}", count=len(group)))
        for position, story in enumerate(group):
            lines = [_digest_entry(story, reader)]
            if position == 0:
                lines = ["", f"<b>{heading}</b>", *lines]
            if part_has_story and _size(parts[-1] + lines) > room:
                if position:
                    heading_line = f"<b>{heading} {esc(text(lang, 'digest_continued'))}</b>"
                else:
                    heading_line = f"<b>{heading}</b>"
                parts.append([heading_line])
                lines = lines[-1:]
            parts[-1].extend(lines)
            part_has_story = True
    messages = ["\n".join(lines) for lines in parts]
    if len(messages) > 1:
        messages = [f"({n}/{len(messages)}) {body}" for n, body in enumerate(messages, start=1)]
    return messages


def _size(lines: list[str]) -> int:
    return telegram_length("\n".join(lines))


def stories_for(reader: Reader, stories: Sequence[Story]) -> list[Story]:
    """The stories reported in a language the reader reads."""
    return [story for story in stories if _reads(reader, story)]


def _reads(reader: Reader, story: Story) -> bool:
    if reader.story_langs == "both":
        return True
    return reader.story_langs in {story.lang, *(source.lang for source in story.sources)}


def _groups(stories: list[Story], reader: Reader) -> list[tuple[str, list[Story]]]:
    by_lang: dict[str, list[Story]] = {}
    for story in stories:
        lead = lead_of(story, reader.story_langs)
        by_lang.setdefault(lead.lang if lead.lang in ("ru", "en") else "en", []).append(story)
    order = sorted(by_lang, key=lambda lang: (lang != reader.ui_lang, lang))
    return [
        (lang, sorted(by_lang[lang], key=lambda s: (-_outlets(s), s.created_at, s.id)))
        for lang in order
    ]


def _outlets(story: Story) -> int:
    return len({source.feed for source in story.sources}) or 1


def _digest_entry(story: Story, reader: Reader) -> str:
    lead = lead_of(story, reader.story_langs)
    entry = f"• {link(shorten(lead.title, TITLE_MAX), lead.url)} — {esc(lead.feed)}"
    others = _outlets(story) - 1
    if others > 0:
        entry += f" {esc(text(reader.ui_lang, 'digest_more_sources', count=others))}"
    return entry


# -- moderation --------------------------------------------------------------------------------


def render_review_item(
    article: Article, reader: Reader, *, threshold: float, label: bool | None = None
) -> Rendered:
    """One article for a moderator to label, with its score against the threshold."""
    lang = reader.ui_lang
    language = text(lang, f"lang_{article.lang}") if article.lang in ("ru", "en") else article.lang
    score = article.score if article.score is not None else float("nan")
    meta = " · ".join(
        [
            esc(article.feed),
            esc(language),
            format_time(article.published or article.fetched_at, lang, reader.tz),
            esc(text(lang, "review_score", score=score)),
        ]
    )
    excerpt = shorten(article.text, 600)
    body = f"<b>{link(shorten(article.title, TITLE_MAX), article.url)}</b>\n{meta}"
    if excerpt:
        body += f"\n\n{esc(excerpt)}"
    return Rendered(body, label_buttons("a", article.id, lang, label))


def render_stats(stats: Stats, lang: str) -> str:
    lines = [
        esc(
            text(
                lang,
                "stats_subscribers",
                active=stats.subscribers_active,
                total=stats.subscribers_total,
            )
        ),
        esc(
            text(
                lang,
                "stats_content",
                articles=stats.articles,
                stories=stats.stories,
                labels=stats.labels,
            )
        ),
    ]
    if stats.outbox:
        outbox = ", ".join(f"{status} {count}" for status, count in sorted(stats.outbox.items()))
        lines.append(esc(text(lang, "stats_outbox", outbox=outbox)))
    if stats.model_version is None:
        lines.append(esc(text(lang, "stats_no_model")))
        return "\n".join(lines)
    lines.append(
        esc(
            text(
                lang,
                "stats_model",
                version=stats.model_version,
                threshold=stats.model_threshold or 0.0,
                examples=stats.model_examples or 0,
            )
        )
    )
    figures = _model_figures(stats.model_metrics)
    if figures:
        lines.append("<pre>" + esc("\n".join(figures)) + "</pre>")
    return "\n".join(lines)


def _model_figures(metrics: dict) -> list[str]:
    """Precision, recall and F1 per language when the trainer reported them; otherwise the
    first numbers found."""
    per_language = [
        f"{lang:>3}  P {values['precision']:.3f}  R {values['recall']:.3f}  F1 {values['f1']:.3f}"
        for lang, values in (metrics.get("languages") or {}).items()
        if isinstance(values, dict) and {"precision", "recall", "f1"} <= values.keys()
    ]
    if not per_language:
        return _figures(metrics)[:20]
    overall = [
        f"{name}: {metrics[name]:.3f}"
        for name in ("quality", "average_precision")
        if isinstance(metrics.get(name), float)
    ]
    return per_language + overall


def _figures(metrics: object, prefix: str = "") -> list[str]:
    """Numbers in a nested metrics dict, one `path: value` line each."""
    if isinstance(metrics, dict):
        return [
            line for key, value in metrics.items() for line in _figures(value, f"{prefix}{key} ")
        ]
    if isinstance(metrics, bool) or not isinstance(metrics, int | float):
        return []
    value = f"{metrics:.3f}" if isinstance(metrics, float) else str(metrics)
    return [f"{prefix.strip()}: {value}"]


def render_retrained(retrained: Retrained, lang: str) -> str:
    if retrained.activated:
        verdict = text(lang, "retrain_activated", version=retrained.version)
    elif retrained.refused:
        verdict = text(lang, "retrain_kept")
    else:
        verdict = text(lang, "retrain_unchanged")
    report = shorten_lines(retrained.text, MAX_LENGTH - 200)
    return f"<b>{esc(verdict)}</b>\n<pre>{esc(report)}</pre>"


def shorten_lines(value: str, limit: int) -> str:
    """Whole lines, as many as fit (escaping may grow them; leave room)."""
    kept, size = [], 0
    for line in value.splitlines():
        size += telegram_length(esc(line)) + 1
        if size > limit:
            kept.append("…")
            break
        kept.append(line)
    return "\n".join(kept)


# -- the console ---------------------------------------------------------------------------------


def to_console(message: str) -> str:
    """Plain text of a rendered message, for console mode: links become `text <url>`."""
    linked = re.sub(
        r'<a href="([^"]*)">(.*?)</a>',
        lambda m: f"{m.group(2)} <{m.group(1)}>",
        message,
        flags=re.DOTALL,
    )
    return html.unescape(re.sub(r"</?(?:b|i|u|s|code|pre)>", "", linked))
