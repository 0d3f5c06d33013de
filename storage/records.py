"""Plain records that cross the storage boundary; no SQLite row ever leaves this package."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time


@dataclass(frozen=True)
class FeedState:
    """What we know about a feed between polls: validators, health, schedule."""

    name: str
    url: str
    language: str
    etag: str | None = None
    last_modified: str | None = None
    last_fetch_at: datetime | None = None
    last_status: str | None = None  # "ok", "not-modified" or "error"
    last_http_status: int | None = None
    last_error: str | None = None
    error_count: int = 0  # consecutive failures; 0 after a success
    next_poll_at: datetime | None = None
    items_last: int = 0  # entries in the last successfully parsed body
    articles_total: int = 0  # articles stored from this feed, counted as they are stored
    problems_last: int = 0  # problems inside the feed at its last successful fetch
    last_problem: str | None = None  # the first of them


@dataclass(frozen=True)
class NewArticle:
    """An article the poller has fetched, extracted and scored, ready to be stored."""

    url: str  # canonical
    feed: str
    title: str
    text: str
    lang: str
    source: str  # "page" when extracted from the article page, "feed" when from the feed
    published: datetime | None = None
    author: str | None = None
    guid: str | None = None
    score: float | None = None
    model_version: str | None = None


@dataclass(frozen=True)
class Article:
    id: int
    url: str
    feed: str
    title: str
    text: str
    lang: str
    source: str
    fetched_at: datetime
    published: datetime | None = None
    author: str | None = None
    guid: str | None = None
    score: float | None = None
    model_version: str | None = None
    story_id: int | None = None


@dataclass(frozen=True)
class Source:
    """One outlet's report of a story."""

    article_id: int
    feed: str
    lang: str
    url: str
    title: str
    published: datetime | None = None


@dataclass(frozen=True)
class Story:
    """One event, however many outlets and languages reported it."""

    id: int
    created_at: datetime
    updated_at: datetime
    title: str  # the headline of its first relevant article
    lang: str  # the language of that article
    url: str  # and its address
    summaries: dict[str, str]  # language -> extractive summary
    sources: tuple[Source, ...]
    score: float | None  # the highest relevance score among its articles
    relevant: bool
    parent_id: int | None = None  # the earlier story this one follows up
    first_article_id: int | None = None  # the article title, lang and url come from


@dataclass(frozen=True)
class StorySignature:
    """What the story matcher remembers of one article, so its index survives a restart."""

    article_id: int
    story_id: int
    feed: str
    lang: str
    at: datetime  # when the event was reported: published, or fetched when that is unknown
    minhash: bytes  # the MinHash of the article's word shingles, as little-endian uint32
    keys: tuple[str, ...]  # typed keys: names, places, numbers, dates, articles of law, links
    lead_keys: tuple[str, ...]  # the keys found in the headline and the lead


@dataclass(frozen=True)
class ModelRecord:
    """A trained relevance model in the registry; its file lives in the models directory."""

    version: str
    data_hash: str
    threshold: float
    examples: int
    metrics: dict  # cross-validated figures, as the trainer reported them
    created_at: datetime
    active: bool = False
    activated_at: datetime | None = None


@dataclass(frozen=True)
class Label:
    """A moderator's verdict on an article: 1 relevant, 0 not. One per article; the last wins."""

    article_id: int
    label: int
    moderator: int  # Telegram user id
    labelled_at: datetime


@dataclass(frozen=True)
class LabelledArticle:
    """A labelled article's text, as training data."""

    article_id: int
    title: str
    text: str
    lang: str
    label: int
    moderator: int
    labelled_at: datetime


@dataclass(frozen=True)
class Subscriber:
    """A Telegram chat that asked for alerts, and how it wants them."""

    chat_id: int
    user_id: int | None
    ui_lang: str  # the language of the bot's own texts: "ru" or "en"
    story_langs: str  # which stories it gets: "ru", "en" or "both"
    alerts: bool  # an instant alert for every new story
    digest: bool  # the daily digest
    digest_time: time | None  # local time of the daily digest; None means the default
    active: bool
    subscribed_at: datetime  # stories created before this are never sent as alerts
    updated_at: datetime


@dataclass(frozen=True)
class OutboxItem:
    """One message to one chat; the row is the only proof that it was (or may have been) sent."""

    id: int
    kind: str  # "alert" (ref = story id) or "digest" (ref = "YYYY-MM-DD/part")
    ref: str
    chat_id: int
    status: str  # pending, sending, sent, uncertain or failed
    attempts: int
    created_at: datetime
    updated_at: datetime
    payload: str | None = None  # the rendered text, for kinds rendered when enqueued
    message_id: int | None = None
    last_error: str | None = None
    not_before: datetime | None = None  # a pending row waits until then (RetryAfter)
    sent_at: datetime | None = None
    rendered_sources: int = 0  # how many story sources the sent alert lists
