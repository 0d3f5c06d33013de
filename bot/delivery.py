"""The outbox worker: new relevant stories become alert rows, and rows become messages.

Nothing is sent twice. A row is claimed (`sending`, committed) after its rate slot and just
before the API call; `sent` with the message id after. When the answer is lost once the
request may have left, the row is `uncertain` and stays so. RetryAfter pauses all sending and
puts the row back to `pending` with a time; Telegram saying the chat is gone (403) deactivates
the subscriber; a migrated group is followed to its new id. Database calls run in threads,
so neither polling nor the bot's handlers wait on delivery.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta, tzinfo

from bot.render import Reader, Rendered, render_alert
from bot.sender import Sender, SendResult
from storage import Store
from storage.base import utcnow
from storage.records import OutboxItem, Story, Subscriber

log = logging.getLogger(__name__)

Labels = Callable[[Story], tuple[bool | None, str | None]]  # story -> (label, who), sync


@dataclass(frozen=True)
class DeliveryConfig:
    tz: tzinfo = UTC
    moderators: frozenset[int] = frozenset()
    rate: float = 29.0  # messages per second overall; Telegram allows about 30
    chat_interval: float = 1.0  # seconds between two messages to one chat
    concurrency: int = 32  # requests in flight at once
    batch: int = 500  # chats being worked on at once
    story_window: timedelta = timedelta(days=2)  # how far back new stories are looked for
    edit_window: timedelta = timedelta(days=2)  # alerts younger than this get new sources
    edit_every: timedelta = timedelta(minutes=1)
    network_retry: float = 15.0  # seconds before a request that never left is tried again


@dataclass
class Tally:
    enqueued: int = 0
    sent: int = 0
    retried: int = 0  # RetryAfter: back to pending
    not_sent: int = 0  # no connection: back to pending
    uncertain: int = 0
    failed: int = 0
    deactivated: int = 0
    migrated: int = 0
    edited: int = 0

    def report(self) -> DeliveryReport:
        return DeliveryReport(**{f.name: getattr(self, f.name) for f in fields(self)})


@dataclass(frozen=True)
class DeliveryReport:
    enqueued: int = 0
    sent: int = 0
    retried: int = 0
    not_sent: int = 0
    uncertain: int = 0
    failed: int = 0
    deactivated: int = 0
    migrated: int = 0
    edited: int = 0


class Pacer:
    """Spaces requests: an overall rate, one message per interval per chat, and a pause for
    everyone after a RetryAfter. A slot is taken right before the request goes out."""

    def __init__(
        self,
        rate: float,
        chat_interval: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.gap = 1.0 / rate
        self.chat_interval = chat_interval
        self.monotonic = monotonic
        self._next = 0.0
        self._paused_until = 0.0
        self._chat_next: dict[int, float] = {}

    def pause(self, seconds: float) -> None:
        until = self.monotonic() + seconds
        self._paused_until = max(self._paused_until, until)
        # Slots handed out before the pause are void; the queue restarts when it ends.
        self._next = max(self._next, self._paused_until)

    @property
    def paused(self) -> bool:
        return self.monotonic() < self._paused_until

    async def slot(self, chat_id: int) -> None:
        while True:
            now = self.monotonic()
            wait = max(self._paused_until, self._chat_next.get(chat_id, 0.0)) - now
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            start = max(now, self._next)
            self._next = start + self.gap
            if start > now:
                await asyncio.sleep(start - now)
            if not self.paused:
                break
        now = self.monotonic()
        self._chat_next[chat_id] = now + self.chat_interval
        if len(self._chat_next) > 50_000:
            self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}


class Delivery:
    def __init__(
        self,
        store: Store,
        sender: Sender,
        config: DeliveryConfig | None = None,
        *,
        labels: Labels | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.sender = sender
        self.config = config or DeliveryConfig()
        self.labels = labels
        self.clock = clock
        self.pacer = Pacer(self.config.rate, self.config.chat_interval)
        self._run_lock = asyncio.Lock()
        self._in_flight = asyncio.Semaphore(self.config.concurrency)
        self._stopping = False
        self._task: asyncio.Task | None = None
        self._again = False
        self._last_edit_check: datetime | None = None
        self._stories_cache: dict[int, Story | None] = {}
        self._subscribers_cache: dict[int, Subscriber] = {}
        self._rendered_cache: dict[tuple, Rendered] = {}

    # -- running -------------------------------------------------------------------------------

    async def recover(self) -> int:
        """At start-up: rows a crash left `sending` become `uncertain` (never resent)."""
        count = await _io(self.store.recover_outbox, at=self.clock())
        if count:
            log.warning("%d messages were being sent when the bot stopped: marked uncertain", count)
        return count

    def kick(self) -> None:
        """Start a run in the background unless one is going (then run once more after)."""
        if self._stopping:
            return
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.get_running_loop().create_task(self._background())

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self, timeout: float = 15.0) -> None:
        """Let requests in flight finish, claim nothing new."""
        self._stopping = True
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout)
            except TimeoutError:
                self._task.cancel()

    async def _background(self) -> None:
        while True:
            self._again = False
            try:
                await self.run_once()
            except Exception:
                log.exception("delivery run failed; the next run starts over")
            if not self._again or self._stopping:
                return

    async def run_once(self) -> DeliveryReport:
        """Fan out new stories, send what is due (waiting out short RetryAfters), edit alerts
        whose stories gained sources."""
        async with self._run_lock:
            tally = Tally()
            self._stories_cache.clear()
            self._subscribers_cache.clear()
            self._rendered_cache.clear()
            tally.enqueued = await self.fan_out()
            await self.send_due(tally)
            now = self.clock()
            if (
                self._last_edit_check is None
                or now - self._last_edit_check >= self.config.edit_every
            ):
                self._last_edit_check = now
                await self.refresh_alerts(tally)
            report = tally.report()
            if report != DeliveryReport():
                log.info("delivery: %s", report)
            return report

    # -- fan-out ---------------------------------------------------------------------------------

    async def fan_out(self) -> int:
        """Enqueue each new relevant story's alert for every subscriber who wants it; a story
        that gained a report in another language, for that language's readers too."""
        now = self.clock()
        stories = await _io(self.store.stories_since, now - self.config.story_window)
        relevant = [story for story in stories if story.relevant]
        done = await _io(self.store.fanned_out, [story.id for story in relevant])
        added = 0
        for story in relevant:
            new_languages = languages(story) - done.get(story.id, frozenset())
            if not new_languages:
                continue
            chats = await _io(self.store.alert_recipients, new_languages, story.created_at)
            added += await _io(self.store.fan_out_alert, story.id, chats, new_languages, at=now)
            self._stories_cache[story.id] = story
        return added

    # -- sending ---------------------------------------------------------------------------------

    async def send_due(self, tally: Tally) -> None:
        while not self._stopping:
            retried = await self._send_pass(tally)
            if not retried:
                return
            due = await _io(self.store.next_due_at)
            if due is None:
                return
            wait = (due - self.clock()).total_seconds()
            if wait > 60:
                return  # a later run picks them up
            await asyncio.sleep(max(wait, 0.0))

    async def _send_pass(self, tally: Tally) -> int:
        """One sweep over the due rows, oldest first; returns how many went back to pending
        for a RetryAfter (they are due again within seconds)."""
        retried_before = tally.retried
        queues: dict[int, deque[OutboxItem]] = {}
        workers: set[asyncio.Task] = set()
        cursor = 0
        while not self._stopping:
            if len(queues) >= self.config.batch:
                _, workers = await asyncio.wait(workers, return_when=asyncio.FIRST_COMPLETED)
                continue
            rows = await _io(
                self.store.due_outbox, now=self.clock(), limit=self.config.batch, after_id=cursor
            )
            if not rows:
                break
            cursor = rows[-1].id
            await self._prefetch(rows)
            for row in rows:
                if row.chat_id in queues:
                    queues[row.chat_id].append(row)
                    continue
                queues[row.chat_id] = deque([row])
                worker = asyncio.create_task(self._chat_worker(row.chat_id, queues, tally))
                workers.add(worker)
        if workers:
            await asyncio.gather(*workers)
        return tally.retried - retried_before

    async def _chat_worker(
        self, chat_id: int, queues: dict[int, deque[OutboxItem]], tally: Tally
    ) -> None:
        """A chat's messages in order; one that has to wait holds back the rest of the chat."""
        queue = queues[chat_id]
        try:
            while queue and not self._stopping:
                outcome = await self._deliver(queue.popleft(), tally)
                if outcome in ("retry_after", "not_sent"):
                    break
        except Exception:
            log.exception("delivery to chat %s failed", chat_id)
        finally:
            del queues[chat_id]

    async def _deliver(self, item: OutboxItem, tally: Tally) -> str:
        for _ in range(3):  # a migrated chat is followed to its new id, not forever
            try:
                message = await self._message_for(item)
            except Exception as error:
                log.exception("could not render outbox row %s", item.id)
                message, problem = None, f"could not render: {error}"
            else:
                problem = "its story is gone or no longer relevant"
            if message is None:  # nothing to send: no rate slot, no API call
                claimed = await _io(self.store.claim, item.id, at=self.clock())
                if claimed is not None:
                    await _io(self.store.mark_failed, claimed.id, problem, at=self.clock())
                    tally.failed += 1
                return "failed"
            async with self._in_flight:
                claimed = await self._claim_in_turn(item)
                if claimed is None:
                    return "skipped"  # stopping, or someone else has it, or no longer pending
                if claimed.chat_id != item.chat_id:  # its chat migrated meanwhile
                    message = await self._message_for(claimed) or message
                result = await self.sender.send(claimed.chat_id, message)
            outcome = await self._record(claimed, message, result, tally)
            if outcome != "migrated":
                return outcome
            item = await _io(self.store.outbox_item, claimed.id)
            if item is None or item.status != "pending":
                return "failed"
        return "migrated"

    async def _claim_in_turn(self, item: OutboxItem) -> OutboxItem | None:
        """Wait for the row's rate slot, then claim it; a RetryAfter that came back while the
        claim was being written holds the request back (the row is released, not sent)."""
        while True:
            await self.pacer.slot(item.chat_id)
            if self._stopping:
                return None
            claimed = await _io(self.store.claim, item.id, at=self.clock())
            if claimed is None or not self.pacer.paused:
                return claimed
            await _io(self.store.release, claimed.id, "held back by a RetryAfter", at=self.clock())

    async def _record(
        self, item: OutboxItem, message: Rendered, result: SendResult, tally: Tally
    ) -> str:
        now = self.clock()
        store = self.store
        status = result.status
        if status == "sent":
            await _io(
                store.mark_sent,
                item.id,
                message_id=result.message_id,
                at=now,
                rendered_sources=message.sources,
            )
            tally.sent += 1
        elif status == "retry_after":
            self.pacer.pause(result.retry_after)
            not_before = now + timedelta(seconds=result.retry_after)
            await _io(store.release, item.id, result.error, at=now, not_before=not_before)
            tally.retried += 1
        elif status == "not_sent":
            not_before = now + timedelta(seconds=self.config.network_retry)
            await _io(store.release, item.id, result.error, at=now, not_before=not_before)
            tally.not_sent += 1
        elif status == "uncertain":
            await _io(store.mark_uncertain, item.id, result.error, at=now)
            tally.uncertain += 1
        elif status == "forbidden":
            await _io(store.mark_failed, item.id, result.error, at=now)
            if await _io(store.deactivate_subscriber, item.chat_id, reason=result.error, at=now):
                tally.deactivated += 1
            tally.failed += 1
        elif status == "migrated" and result.new_chat_id is not None:
            await _io(store.release, item.id, result.error, at=now)
            await _io(store.migrate_chat, item.chat_id, result.new_chat_id, at=now)
            tally.migrated += 1
            log.info("chat %s moved to %s", item.chat_id, result.new_chat_id)
        else:  # bad_request and anything Telegram refused for good
            await _io(store.mark_failed, item.id, result.error or status, at=now)
            tally.failed += 1
        return status

    # -- rendering ---------------------------------------------------------------------------------

    async def _prefetch(self, rows: list[OutboxItem]) -> None:
        chats = [row.chat_id for row in rows if row.chat_id not in self._subscribers_cache]
        self._subscribers_cache.update(await _io(self.store.subscribers, chats))
        for row in rows:
            if row.kind == "alert" and int(row.ref) not in self._stories_cache:
                self._stories_cache[int(row.ref)] = await _io(self.store.story, int(row.ref))

    async def _message_for(self, item: OutboxItem) -> Rendered | None:
        if item.kind != "alert":
            return Rendered(item.payload) if item.payload else None
        story_id = int(item.ref)
        if story_id not in self._stories_cache:
            self._stories_cache[story_id] = await _io(self.store.story, story_id)
        story = self._stories_cache[story_id]
        if story is None or not story.relevant:
            return None
        subscriber = self._subscribers_cache.get(item.chat_id)
        if subscriber is None:
            subscriber = await _io(self.store.subscriber, item.chat_id)
        return await self.alert_for(story, item.chat_id, subscriber)

    async def alert_for(
        self, story: Story, chat_id: int, subscriber: Subscriber | None
    ) -> Rendered:
        reader = Reader(
            ui_lang=subscriber.ui_lang if subscriber else "en",
            story_langs=subscriber.story_langs if subscriber else "both",
            tz=self.config.tz,
            moderator=chat_id in self.config.moderators,
        )
        if reader.moderator:
            label, who = (None, None)
            if self.labels is not None:
                try:
                    label, who = await _io(self.labels, story)
                except Exception:  # the alert matters more than showing its label
                    log.exception("could not read the label of story %s", story.id)
            return render_alert(story, reader, label=label, labelled_by=who)
        key = (story.id, story.updated_at, len(story.sources), reader.ui_lang, reader.story_langs)
        rendered = self._rendered_cache.get(key)
        if rendered is None:
            rendered = self._rendered_cache[key] = render_alert(story, reader)
        return rendered

    # -- edits -------------------------------------------------------------------------------------

    async def refresh_alerts(self, tally: Tally) -> None:
        """Edit sent alerts whose story has gained sources since, so they list them all."""
        now = self.clock()
        listed = await _io(self.store.sent_alert_sources, now - self.config.edit_window)
        for story_id, fewest in listed.items():
            story = await _io(self.store.story, story_id)
            if story is None or len(story.sources) <= fewest or not story.relevant:
                continue
            items = await _io(self.store.alerts_listing_fewer, story_id, len(story.sources))
            subscribers = await _io(self.store.subscribers, [item.chat_id for item in items])
            for item in items:
                if self._stopping or not await self._edit(item, story, subscribers, tally):
                    return

    async def _edit(
        self, item: OutboxItem, story: Story, subscribers: dict[int, Subscriber], tally: Tally
    ) -> bool:
        """Edit one alert; False when editing should stop for now (RetryAfter)."""
        subscriber = subscribers.get(item.chat_id)
        if subscriber is None or not subscriber.active:
            return True
        message = await self.alert_for(story, item.chat_id, subscriber)
        async with self._in_flight:
            await self.pacer.slot(item.chat_id)
            result = await self.sender.edit(item.chat_id, item.message_id, message)
        now = self.clock()
        if result.status in ("sent", "not_modified", "bad_request"):
            # bad_request: the message was deleted or is too old to edit; stop trying
            await _io(self.store.set_rendered_sources, item.id, message.sources, at=now)
            tally.edited += result.status == "sent"
        elif result.status == "retry_after":
            self.pacer.pause(result.retry_after)
            return False
        elif result.status == "forbidden":
            await _io(self.store.deactivate_subscriber, item.chat_id, reason=result.error, at=now)
            tally.deactivated += 1
        return True


def languages(story: Story) -> set[str]:
    """The languages a story was reported in (of those readers can choose)."""
    return {story.lang, *(source.lang for source in story.sources)} & {"ru", "en"}


async def _io(function: Callable, *args: object, **kwargs: object):
    """Run a blocking (database) call in a thread, so the event loop never waits on it."""
    return await asyncio.to_thread(function, *args, **kwargs)
