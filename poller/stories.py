"""Story matching: each new article joins a story from the last days or starts a new one.

    matcher = StoryMatcher(store, window=timedelta(days=7))
    assignment = matcher.assign(article, relevant=article.score >= threshold)

Candidates come from two indexes kept in memory for the window and rebuilt from the store on
start: MinHash LSH (banded) over word shingles finds near-duplicates in one language, and
an inverted index over typed keys (names as consonant skeletons shared by Russian and Latin
spellings, articles of law, money, terms, ages, dates, numbers, links) finds the same event told
in other words or in the other language. Posting lists keep only their newest entries, so the
work per article is bounded whatever the number of stored articles. Each candidate is then
judged by `compare`; an article that matches none starts a story, linked as a follow-up to an
earlier story of the same person (an arrest, weeks later the verdict) when there is one.
"""

from __future__ import annotations

import heapq
import sys
import threading
from collections import deque
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from poller.fingerprints import (
    EMPTY_MINHASH,
    NUM_PERM,
    PLATFORM_SKELETONS,
    estimated_jaccard,
    fingerprint,
)
from poller.summary import summarize
from storage import Article, Store, StorySignature

DEFAULT_WINDOW = timedelta(days=7)
DEFAULT_FOLLOWUP_WINDOW = timedelta(days=365)  # from arrest to verdict can take a year
LSH_BANDS = (6, 5)  # 6 bands of 5 rows: P(candidate) is 0.64 at Jaccard 0.7, 0.91 at 0.8
DUPLICATE_WINDOW = timedelta(days=2)  # how long a report stays findable as a near-duplicate
POSTINGS_PER_KEY = 32  # the newest articles per key; older ones are reached by rarer keys
CANDIDATES = 12  # best key-index candidates judged in full, per new article
LSH_CANDIDATES = 16  # the newest near-duplicates judged in full (templated texts crowd buckets)
FOLLOWUP_CANDIDATES = 8  # the newest earlier stories of the same person judged as parents
STAGE_GRACE = timedelta(hours=36)  # a detention and that day's court ruling are one story
UNNAMED_WINDOW = timedelta(days=2)  # a press release naming nobody, and the reports of it

# How much a shared key says, by type. Names first: a surname after a first name or initial is
# the strongest sign of one event; numbers say more the more specific they are.
KEY_WEIGHTS = {
    "per": 3.0,
    "fio": 1.0,
    "nm": 2.0,
    "org": 2.0,
    "fn": 0.5,
    "url": 4.0,
    "law": 1.5,
    "money": 2.5,
    "term": 2.5,
    "age": 2.0,
    "date": 1.0,
    "num": 1.5,
    "yr": 0.3,
}
ANCHOR_TYPES = frozenset({"per", "nm", "org", "url"})  # a match needs one of these shared
# Differing values in both leads: different events (a fine, a term, an age, what the person
# does, where the post was)
CONFLICT_TYPES = ("money", "term", "age", "occ", "net")
NEAR_DUPLICATE = 0.5  # estimated Jaccard of word 3-shingles
MIN_SHARED_WEIGHT = 6.0
MIN_OVERLAP = 0.3


@dataclass(frozen=True)
class Assignment:
    """Where an article went, and why."""

    article_id: int
    story_id: int
    new_story: bool
    reason: str  # "new", "duplicate", "same-event", "cross-language", "follow-up", "assigned"
    matched_article_id: int | None = None  # the article it was matched with
    parent_id: int | None = None  # for a new story that follows up an earlier one
    score: float = 0.0


@dataclass(frozen=True)
class Verdict:
    """What `compare` found: the same event, a later development of it, or another event."""

    kind: str  # "same", "follow-up" or "different"
    score: float  # the weight of what the two reports share (more is surer)
    reason: str


@dataclass(frozen=True, slots=True)
class Report:
    """One article as the matcher sees it: where it came from, when, and its evidence.

    A new article's keys are frozensets; once indexed they are sorted tuples of interned
    strings, which take a fifth of the memory.
    """

    article_id: int
    story_id: int
    feed: str
    lang: str
    at: datetime
    minhash: bytes
    keys: Collection[str]
    lead_keys: Collection[str]
    weight: float = field(init=False, repr=False)  # what all its keys weigh together

    def __post_init__(self) -> None:
        object.__setattr__(self, "weight", sum(_weight(key) for key in self.keys))


def compare(new: Report, old: Report, *, window: timedelta = DEFAULT_WINDOW) -> Verdict:
    """Is `new` a report of the event `old` reported, a later development of it, or neither?

    Same event: within the window, the texts are near-duplicates, or they name one person by
    first name and surname, or they share a name, place, organisation or link and enough
    other facts (`MIN_SHARED_WEIGHT`, `MIN_OVERLAP`), or — when one of them names nobody, as
    a court's press release often does — their leads give the same city, penalty and
    occupation, age or platform within `UNNAMED_WINDOW` — unless something contradicts it: the
    leads name different people (or one surname with different first names), give different
    fines, terms, ages or cities, or report different stages of a case more than
    `STAGE_GRACE` apart.
    A report of the same person that is not the same event is a follow-up.
    """
    shared = _as_set(new.keys).intersection(old.keys)
    weight = sum(_weight(key) for key in shared)
    mine, theirs = _lead(new), _lead(old)
    if _people_conflict(new, mine, old, theirs):
        return Verdict("different", weight, "different people")
    gap = abs(new.at - old.at)
    kinds = {_kind(key) for key in shared}
    overlap = weight / max(1e-9, min(new.weight, old.weight))
    near = new.lang == old.lang and estimated_jaccard(new.minhash, old.minhash) >= NEAR_DUPLICATE
    # first name and surname both agree: one person, whatever else the reports chose to tell
    full_name = "per" in kinds and "fn" in kinds
    similar = (
        near
        or full_name
        or (_anchored(shared) and weight >= MIN_SHARED_WEIGHT and overlap >= MIN_OVERLAP)
        or (gap <= UNNAMED_WINDOW and _same_unnamed_case(new, mine, old, theirs))
    )
    facts = _facts_conflict(new, mine, old, theirs)
    stage = gap > STAGE_GRACE and _stage_conflict(mine, theirs)
    if similar and not facts and not stage and gap <= window:
        reason = (
            "duplicate" if near else ("same-event" if new.lang == old.lang else "cross-language")
        )
        return Verdict("same", weight + (10.0 if near else 0.0), reason)
    same_person = "per" in kinds or (
        _names_any(mine.get("per", ()), old) and _names_any(theirs.get("per", ()), new)
    )
    if same_person and (similar or weight >= MIN_SHARED_WEIGHT / 2):
        return Verdict("follow-up", weight, "a later development")
    return Verdict("different", weight, "not enough in common")


def _as_set(keys: Collection[str]) -> frozenset[str]:
    return keys if isinstance(keys, frozenset) else frozenset(keys)


def _kind(key: str) -> str:
    return key.partition(":")[0]


def _weight(key: str) -> float:
    return KEY_WEIGHTS.get(key.partition(":")[0], 0.0)


@lru_cache(maxsize=4096)
def _lead(report: Report) -> dict[str, list[str]]:
    """The lead's keys that can contradict another report, by kind."""
    found: dict[str, list[str]] = {}
    for key in report.lead_keys:
        kind, _, value = key.partition(":")
        if kind in _LEAD_KINDS:
            found.setdefault(kind, []).append(value)
    return found


_LEAD_KINDS = frozenset({"per", "fio", "geo", "stage", *CONFLICT_TYPES})


def _names_any(surnames: Iterable[str], report: Report) -> bool:
    return any(f"nm:{surname}" in report.keys for surname in surnames)


def _people_conflict(new: Report, mine: dict, old: Report, theirs: dict) -> bool:
    """Both leads name someone by first name and surname, and neither text names the other's;
    or both leads name the same surname with different first names (namesakes, relatives)."""
    if not (mine.get("per") and theirs.get("per")):
        return False
    if not _names_any(mine["per"], old) and not _names_any(theirs["per"], new):
        return True
    for surname in set(mine["per"]) & set(theirs["per"]):
        firsts = _first_names(mine, surname), _first_names(theirs, surname)
        if firsts[0] and firsts[1] and not firsts[0] & firsts[1]:
            return True
    return False


def _first_names(lead: dict, surname: str) -> set[str]:
    suffix = "." + surname
    return {value[: -len(suffix)] for value in lead.get("fio", ()) if value.endswith(suffix)}


def _facts_conflict(new: Report, mine: dict, old: Report, theirs: dict) -> bool:
    """Both leads give a fine, a term, an age or a city, and neither text has the other's."""
    for kind in (*CONFLICT_TYPES, "geo"):
        if (
            mine.get(kind)
            and theirs.get(kind)
            and not any(f"{kind}:{value}" in old.keys for value in mine[kind])
            and not any(f"{kind}:{value}" in new.keys for value in theirs[kind])
        ):
            return True
    return False


def _anchored(shared: frozenset[str]) -> bool:
    """A shared name, organisation or link; the name of a city or a platform alone anchors
    nothing (two cases in one city, over posts on VK, are common), so reports naming nobody
    meet by `_same_unnamed_case`."""
    return any(_kind(key) in ANCHOR_TYPES and not _place_name(key, shared) for key in shared)


def _place_name(key: str, shared: frozenset[str]) -> bool:
    skeleton = key.removeprefix("nm:")
    return key.startswith("nm:") and (f"geo:{skeleton}" in shared or skeleton in PLATFORM_SKELETONS)


def _same_unnamed_case(new: Report, mine: dict, old: Report, theirs: dict) -> bool:
    """One lead names nobody, and both give the same city, penalty and something of who or
    where (occupation, age, platform), and no different stage."""
    if mine.get("per") and theirs.get("per"):
        return False
    kinds = {_kind(key) for key in _as_set(new.lead_keys).intersection(old.lead_keys)}
    return (
        "geo" in kinds
        and bool(kinds & {"money", "term"})
        and bool(kinds & {"occ", "age", "net"})
        and not _stage_conflict(mine, theirs)
    )


def _stage_conflict(mine: dict, theirs: dict) -> bool:
    return bool(mine.get("stage") and theirs.get("stage") and mine["stage"] != theirs["stage"])


class _Postings:
    """Key -> the ids filed under it, oldest first, at most `POSTINGS_PER_KEY` of them."""

    def __init__(self) -> None:
        self.lists: dict[str, list[int]] = {}

    def add(self, key: str, item: int) -> None:
        posting = self.lists.setdefault(key, [])
        posting.append(item)
        if len(posting) > POSTINGS_PER_KEY:
            del posting[0]

    def remove_oldest(self, key: str, item: int) -> None:
        """Forget `item` under `key` if it is the oldest there (ids leave in filing order)."""
        posting = self.lists.get(key)
        if posting and posting[0] == item:
            del posting[0]
            if not posting:
                del self.lists[key]

    def get(self, key: str) -> list[int]:
        return self.lists.get(key, [])


class _Bands:
    """MinHash LSH: a probe finds the sketches that equal it on every row of some band."""

    def __init__(self, bands: int, rows: int) -> None:
        if bands * rows > NUM_PERM:
            raise ValueError(f"{bands} bands of {rows} rows need more than {NUM_PERM} values")
        width = 4 * rows  # bytes: a sketch value is a uint32
        self.parts = [slice(band * width, (band + 1) * width) for band in range(bands)]
        self.tables: list[dict[bytes, list[int]]] = [{} for _ in range(bands)]

    def insert(self, item: int, minhash: bytes) -> None:
        for table, part in zip(self.tables, self.parts, strict=True):
            table.setdefault(minhash[part], []).append(item)

    def remove(self, item: int, minhash: bytes) -> None:
        for table, part in zip(self.tables, self.parts, strict=True):
            bucket = table.get(minhash[part])
            if bucket and item in bucket:
                bucket.remove(item)
                if not bucket:
                    del table[minhash[part]]

    def query(self, minhash: bytes) -> set[int]:
        found: set[int] = set()
        for table, part in zip(self.tables, self.parts, strict=True):
            found.update(table.get(minhash[part], ()))
        return found


class _Index:
    """Reports of the window by key, and of its last days by MinHash band; bounded work per query.

    Copies and re-publications come within hours, so the LSH (the larger part of the memory)
    holds only the last `DUPLICATE_WINDOW`; the key index holds the whole window.
    """

    def __init__(self) -> None:
        self.reports: dict[int, Report] = {}
        self.order: deque[int] = deque()
        self.lsh = _Bands(*LSH_BANDS)
        self.in_lsh: deque[int] = deque()
        self.postings = _Postings()

    def add(self, report: Report, *, near_duplicates: bool = True) -> None:
        self.reports[report.article_id] = report
        self.order.append(report.article_id)
        if near_duplicates and report.minhash != EMPTY_MINHASH:
            self.lsh.insert(report.article_id, report.minhash)
            self.in_lsh.append(report.article_id)
        for key in report.keys:
            if _weight(key) > 0:
                self.postings.add(key, report.article_id)

    def evict_before(self, moment: datetime, *, near_duplicates_before: datetime) -> None:
        while self.in_lsh and self.reports[self.in_lsh[0]].at < near_duplicates_before:
            article_id = self.in_lsh.popleft()
            self.lsh.remove(article_id, self.reports[article_id].minhash)
        while self.order and self.reports[self.order[0]].at < moment:
            article_id = self.order.popleft()
            for key in self.reports.pop(article_id).keys:
                self.postings.remove_oldest(key, article_id)

    def candidates(self, probe: Report) -> list[Report]:
        """Near-duplicates by LSH, then the reports sharing the most of the probe's rarer keys.

        A key whose posting list is full is common (a big city, a popular article of law): it
        adds to the ranking of reports found through rarer keys but finds none by itself,
        unless nothing rarer does. Every list is bounded, so is the work.
        """
        near = self.lsh.query(probe.minhash) if probe.minhash != EMPTY_MINHASH else set()
        found = (
            set(heapq.nlargest(LSH_CANDIDATES, near)) if len(near) > LSH_CANDIDATES else set(near)
        )
        rare: dict[int, float] = {}
        common: dict[int, float] = {}
        for key in probe.keys:
            posting = self.postings.get(key)
            if not posting:
                continue
            votes = common if len(posting) >= POSTINGS_PER_KEY else rare
            weight = _weight(key)
            for article_id in posting:
                votes[article_id] = votes.get(article_id, 0.0) + weight
        ranked = rare or common
        score = {aid: rare.get(aid, 0.0) + common.get(aid, 0.0) for aid in ranked}
        found.update(heapq.nlargest(CANDIDATES, score, key=score.__getitem__))
        return [self.reports[article_id] for article_id in found if article_id in self.reports]

    def __len__(self) -> int:
        return len(self.reports)


class _Stories:
    """Relevant stories of the follow-up window, by the people their first report names.

    Only what finding a parent needs is kept (names, laws, organisations, the stage and the
    facts that can contradict), so a year of stories stays small. A person is looked up by
    whole name when the lead gives one, else by surname; only the newest
    `FOLLOWUP_CANDIDATES` stories are judged.
    """

    KINDS = frozenset({"per", "nm", "fn", "fio", "geo", "law", "org", "stage", *CONFLICT_TYPES})
    BY = frozenset({"per", "fio"})

    def __init__(self) -> None:
        self.firsts: dict[int, Report] = {}
        self.order: deque[int] = deque()
        self.by_person = _Postings()

    def add(self, report: Report) -> None:
        if report.story_id in self.firsts:
            return
        slim = _compact(report, kinds=self.KINDS, minhash=b"")
        self.firsts[report.story_id] = slim
        self.order.append(report.story_id)
        for key in slim.keys:
            if _kind(key) in self.BY:
                self.by_person.add(key, report.story_id)

    def evict_before(self, moment: datetime) -> None:
        while self.order and self.firsts[self.order[0]].at < moment:
            story_id = self.order.popleft()
            for key in self.firsts.pop(story_id).keys:
                self.by_person.remove_oldest(key, story_id)

    def candidates(self, probe: Report) -> list[Report]:
        names = [key for key in probe.lead_keys if _kind(key) == "fio"] or [
            key for key in probe.lead_keys if _kind(key) == "per"
        ]
        story_ids: set[int] = set()
        for key in names:
            story_ids.update(self.by_person.get(key))
        newest = heapq.nlargest(FOLLOWUP_CANDIDATES, story_ids)
        return [self.firsts[story_id] for story_id in newest if story_id in self.firsts]

    def __len__(self) -> int:
        return len(self.firsts)


class StoryMatcher:
    """Assigns each stored article to a story, through the `Store`; safe to share by threads."""

    def __init__(
        self,
        store: Store,
        *,
        window: timedelta = DEFAULT_WINDOW,
        followup_window: timedelta = DEFAULT_FOLLOWUP_WINDOW,
        summary_limit: int = 300,
    ) -> None:
        self.store = store
        self.window = window
        self.followup_window = max(followup_window, window)
        self.summary_limit = summary_limit
        self._lock = threading.Lock()
        self._index = _Index()
        self._stories = _Stories()
        self._clock: datetime | None = None
        self.rebuild()

    def rebuild(self) -> int:
        """Reload the window's reports from the store; returns how many are indexed."""
        with self._lock:
            self._index = _Index()
            self._stories = _Stories()
            latest = self.store.latest_signature_at()
            self._clock = latest
            if latest is None:
                return 0
            for signature in self.store.iter_story_signatures_since(
                latest - self.followup_window, first_only=True, relevant_only=True
            ):
                self._stories.add(_report(signature))
            for signature in self.store.iter_story_signatures_since(latest - self.window):
                near = signature.at >= latest - min(DUPLICATE_WINDOW, self.window)
                self._index.add(_report(signature), near_duplicates=near)
            return len(self._index)

    def assign(self, article: Article, *, relevant: bool) -> Assignment:
        """Put a stored article into a story (joining one or starting one) and remember it."""
        if article.story_id is not None:
            return Assignment(article.id, article.story_id, False, "assigned")
        probe = report_of(article)
        summary = summarize(article.title, article.text, article.lang, self.summary_limit)
        with self._lock:
            known = self._index.reports.get(article.id)
            if known is not None:  # assigned already, through another copy of the record
                return Assignment(article.id, known.story_id, False, "assigned")
            self._advance_clock(probe.at)
            found = self._match(probe)
            with self.store.transaction():
                story_id = self._persist(article, probe, found, relevant=relevant, summary=summary)
            report = _compact(probe, story_id=story_id)
            self._index.add(report)
            if relevant:
                self._stories.add(report)
        return found.assignment(article.id, story_id)

    def match(self, article: Article) -> Match:
        """Where `article` would go, without storing anything."""
        probe = report_of(article)
        with self._lock:
            return self._match(probe)

    def candidates(self, article: Article) -> list[int]:
        """The stored articles `article` would be judged against (at most a fixed number)."""
        probe = report_of(article)
        with self._lock:
            return sorted(report.article_id for report in self._index.candidates(probe))

    def catch_up(self, relevant: Callable[[Article], bool]) -> list[Assignment]:
        """Assign the window's stored articles that have no story yet (say, after a crash)."""
        since = self._clock - self.window if self._clock else datetime(1970, 1, 1, tzinfo=UTC)
        articles = self.store.unassigned_articles_since(since)
        return [self.assign(article, relevant=relevant(article)) for article in articles]

    def indexed(self) -> int:
        """How many articles the in-memory index holds (those of the window)."""
        return len(self._index)

    def _persist(
        self, article: Article, probe: Report, found: Match, *, relevant: bool, summary: str
    ) -> int:
        if found.story is not None:
            story_id = self.store.attach_article(
                found.story.story_id, article.id, relevant=relevant, summary=summary
            )
        else:
            story_id = self.store.create_story(
                article.id,
                relevant=relevant,
                summary=summary,
                parent_id=found.parent.story_id if found.parent else None,
            )
        self.store.save_story_signature(
            article.id,
            at=probe.at,
            minhash=probe.minhash,
            keys=sorted(probe.keys),
            lead_keys=sorted(probe.lead_keys),
        )
        return story_id

    def _advance_clock(self, at: datetime) -> None:
        if self._clock is None or at > self._clock:
            self._clock = at
            self._index.evict_before(
                at - self.window, near_duplicates_before=at - min(DUPLICATE_WINDOW, self.window)
            )
            self._stories.evict_before(at - self.followup_window)

    def _match(self, probe: Report) -> Match:
        best: tuple[Report, Verdict] | None = None
        parent: tuple[Report, Verdict] | None = None
        for candidate in self._index.candidates(probe):
            verdict = compare(probe, candidate, window=self.window)
            if verdict.kind == "same" and (best is None or verdict.score > best[1].score):
                best = (candidate, verdict)
            elif verdict.kind == "follow-up" and (
                parent is None or verdict.score > parent[1].score
            ):
                parent = (candidate, verdict)
        if best is not None:
            return Match(story=best[0], verdict=best[1])
        for candidate in self._stories.candidates(probe):
            verdict = compare(probe, candidate, window=self.window)
            if verdict.kind == "different":
                continue
            if parent is None or candidate.at > parent[0].at:
                parent = (candidate, Verdict("follow-up", verdict.score, "a later development"))
        if parent is not None:
            return Match(parent=parent[0], verdict=parent[1])
        return Match()


@dataclass(frozen=True)
class Match:
    """The matcher's decision for one article: a story to join, or a new one (maybe a sequel)."""

    story: Report | None = None  # the report of the story to join
    parent: Report | None = None  # the first report of the story a new one follows up
    verdict: Verdict = Verdict("different", 0.0, "new")

    def assignment(self, article_id: int, story_id: int) -> Assignment:
        if self.story is not None:
            return Assignment(
                article_id=article_id,
                story_id=story_id,
                new_story=False,
                reason=self.verdict.reason,
                matched_article_id=self.story.article_id,
                score=self.verdict.score,
            )
        if self.parent is not None:
            return Assignment(
                article_id=article_id,
                story_id=story_id,
                new_story=True,
                reason="follow-up",
                matched_article_id=self.parent.article_id,
                parent_id=self.parent.story_id,
                score=self.verdict.score,
            )
        return Assignment(article_id=article_id, story_id=story_id, new_story=True, reason="new")


def report_of(article: Article) -> Report:
    """The matcher's view of an article: its fingerprint, time, outlet and language."""
    print_ = fingerprint(article.title, article.text, article.lang)
    return Report(
        article_id=article.id,
        story_id=article.story_id or 0,
        feed=article.feed,
        lang=article.lang,
        at=event_time(article),
        minhash=print_.minhash,
        keys=print_.keys,
        lead_keys=print_.lead_keys,
    )


def event_time(article: Article) -> datetime:
    """When the article reported its event: its publication time unless that is in its future."""
    if article.published is not None:
        published = article.published
        if published.tzinfo is None:
            published = published.replace(tzinfo=article.fetched_at.tzinfo)
        if published <= article.fetched_at + timedelta(hours=1):
            return published
    return article.fetched_at


def _report(signature: StorySignature) -> Report:
    return _compact(
        Report(
            article_id=signature.article_id,
            story_id=signature.story_id,
            feed=signature.feed,
            lang=signature.lang,
            at=signature.at,
            minhash=signature.minhash,
            keys=signature.keys,
            lead_keys=signature.lead_keys,
        )
    )


def _compact(
    report: Report,
    *,
    story_id: int | None = None,
    kinds: frozenset[str] | None = None,
    minhash: bytes | None = None,
) -> Report:
    """The report as the index keeps it: tuples of interned strings, perhaps only some kinds."""

    def keep(keys: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted(sys.intern(k) for k in keys if kinds is None or _kind(k) in kinds))

    return Report(
        article_id=report.article_id,
        story_id=report.story_id if story_id is None else story_id,
        feed=sys.intern(report.feed),
        lang=sys.intern(report.lang),
        at=report.at,
        minhash=report.minhash if minhash is None else minhash,
        keys=keep(report.keys),
        lead_keys=keep(report.lead_keys),
    )
