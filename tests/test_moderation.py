"""Moderators' commands and buttons; everyone else is refused and nothing changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storage import NewArticle
from tests.botharness import MODERATOR, READER_EN, READER_RU, running_bot
from tests.fakebotapi import Message
from tests.storydata import fixture_stories
from tests.storywriter import StoryWriter


@pytest.fixture
async def bot(store, tmp_path):
    async with running_bot(store, tmp_path) as harness:
        yield harness


def a_bots_message(chat_id: int, data: str) -> Message:
    """A message of the bot's carrying one button, as if it had been sent earlier."""
    markup = {"inline_keyboard": [[{"text": "✅ Relevant", "callback_data": data}]]}
    return Message(chat_id, 1, "Story", "Story", markup, order=0)


@pytest.mark.parametrize("command", ["/review", "/retrain", "/stats"])
async def test_moderator_commands_are_refused_to_others(bot, command: str) -> None:
    english = await bot.command(command, user_id=READER_EN)
    assert english.text == "Sorry, only moderators can do that."
    russian = await bot.command(command, user_id=READER_RU, lang="ru")
    assert russian.text == "Извините, это могут делать только модераторы."


@pytest.mark.parametrize("data", ["label:s:1:1", "label:s:1:0", "label:a:11:1", "label:a:11:0"])
async def test_label_buttons_are_refused_to_others(bot, data: str) -> None:
    await bot.command("/start", user_id=READER_EN)
    answer = await bot.press(a_bots_message(READER_EN, data), data, user_id=READER_EN, edits=False)
    assert answer == "Sorry, only moderators can do that."
    refusal = bot.api.calls_to("answerCallbackQuery")[-1].params
    assert refusal.get("show_alert") == "true"
    assert bot.api.calls_to("editMessageText") == []  # the message is left as it was


# -- with labels and models (storage/models.py) -------------------------------------------------


def stored_story(store):
    """The fixture's first story, stored (its three reports as articles) just now."""
    story = {story.id: story for story in fixture_stories()}[1]
    return StoryWriter(store).put(story, at=datetime.now(UTC).replace(microsecond=0))


async def test_a_moderator_labels_an_alert_and_a_second_press_changes_it(store, tmp_path) -> None:
    async with running_bot(store, tmp_path) as bot:
        await bot.command("/start", user_id=MODERATOR)
        story = stored_story(store)
        (_, alert) = await bot.api.wait_messages(MODERATOR, 2)
        face = story.first_article_id
        assert alert.buttons() == [
            [("✅ Relevant", f"label:s:{story.id}:1"), ("❌ Not relevant", f"label:s:{story.id}:0")]
        ]

        answer = await bot.press(alert, f"label:s:{story.id}:1", user_id=MODERATOR)
        assert answer == "Saved: relevant"
        first = store.label(face)
        assert (first.label, first.moderator) == (1, MODERATOR)
        shown = bot.api.last(MODERATOR)
        assert shown.text.endswith("Label: relevant (Tester)")
        assert shown.buttons()[0][0] == ("• ✅ Relevant •", f"label:s:{story.id}:1")

        answer = await bot.press(shown, f"label:s:{story.id}:0", user_id=MODERATOR)
        assert answer == "Saved: not relevant"
        assert [(label.article_id, label.label) for label in store.labels()] == [(face, 0)]
        assert bot.api.last(MODERATOR).text.endswith("Label: not relevant (Tester)")


async def test_a_non_moderators_press_stores_nothing(store, tmp_path) -> None:
    story = stored_story(store)
    async with running_bot(store, tmp_path) as bot:
        message = a_bots_message(READER_EN, f"label:s:{story.id}:1")
        await bot.press(message, f"label:s:{story.id}:1", user_id=READER_EN, edits=False)
        article = story.sources[0].article_id
        await bot.press(message, f"label:a:{article}:0", user_id=READER_EN, edits=False)
    assert store.labels() == []


async def test_review_offers_the_least_certain_unlabelled_articles(store, tmp_path) -> None:
    scored = {}
    for number, score in enumerate([0.05, 0.2, 0.31, 0.26, 0.7, 0.99, None]):
        article = store.add_article(
            NewArticle(
                url=f"https://review.example/{number}",
                feed="review-feed",
                title=f"Article {number} <b>& co</b>",
                text="Текст статьи о штрафе за репост.",
                lang="ru",
                source="page",
                score=score,
            )
        )
        scored[score] = article.id
    record_model(store, threshold=0.25)
    store.set_label(scored[0.26], 1, MODERATOR)  # already labelled: not offered again
    async with running_bot(store, tmp_path) as bot:
        header = await bot.command("/review", user_id=MODERATOR)
        assert header.text == "5 articles closest to the threshold 0.25:"
        items = await bot.api.wait_messages(MODERATOR, 6)
        offered = [message.text.split("\n")[0] for message in items[1:]]
        assert offered == [f"Article {n} <b>& co</b>" for n in (1, 2, 0, 4, 5)]
        assert "review-feed · RU" in items[1].text and "score 0.20" in items[1].text
        target = items[1]
        assert target.buttons()[0][1] == ("❌ Not relevant", f"label:a:{scored[0.2]}:0")
        await bot.press(target, f"label:a:{scored[0.2]}:0", user_id=MODERATOR)
    assert store.label(scored[0.2]).label == 0
    edited = bot.api.messages[MODERATOR][target.message_id]
    assert edited.buttons()[0][1] == ("• ❌ Not relevant •", f"label:a:{scored[0.2]}:0")


async def test_stats_show_counts_and_the_model(store, tmp_path) -> None:
    record_model(store, threshold=0.31)
    store.subscribe(READER_EN, user_id=READER_EN, ui_lang="en", at=datetime.now(UTC))
    async with running_bot(store, tmp_path) as bot:
        stats = await bot.command("/stats", user_id=MODERATOR)
    assert "Subscribers: 1 active of 1" in stats.text
    assert "Model v-test: threshold 0.31, 990 training examples" in stats.text
    assert " ru  P 0.936  R 0.995  F1 0.964" in stats.text
    assert "quality: 0.965" in stats.text


async def test_retrain_trains_off_the_event_loop_and_reports(store, tmp_path) -> None:
    async with running_bot(store, tmp_path) as bot:
        started = await bot.command("/retrain", user_id=MODERATOR)
        assert started.text.startswith("Training on the labels")
        help_reply = await bot.command("/help", user_id=READER_EN)  # the bot still answers
        assert help_reply.text.startswith("RepostWatch follows")
        (_, report) = await bot.api.wait_messages(MODERATOR, 2, timeout=120)
    assert report.text.startswith("New model ")
    assert "mean F1 over languages" in report.text
    assert store.active_model() is not None


def record_model(store, *, threshold: float) -> None:
    metrics = {
        "languages": {
            "ru": {"precision": 0.936, "recall": 0.995, "f1": 0.9642, "tp": 189},
            "en": {"precision": 0.939, "recall": 0.994, "f1": 0.9661, "tp": 169},
        },
        "quality": 0.9651,
        "folds": 5,
    }
    store.record_model(
        "v-test",
        data_hash="abc",
        threshold=threshold,
        examples=990,
        metrics=metrics,
        created_at=datetime.now(UTC),
    )
    store.activate_model("v-test")
