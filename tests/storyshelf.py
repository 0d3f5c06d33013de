"""Stories held in memory, for the bot's tests until storage/stories.py lands on main.

It answers the two questions the bot asks of stories (`story`, `stories_since`) the way the
stories store is specified to: relevant stories updated since a time, newest first.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from storage.records import Source, Story


class StoryShelf:
    def __init__(self) -> None:
        self._stories: dict[int, Story] = {}

    def put(self, story: Story) -> Story:
        self._stories[story.id] = story
        return story

    def add_source(self, story_id: int, source: Source, at: datetime) -> Story:
        story = self._stories[story_id]
        return self.put(replace(story, sources=(*story.sources, source), updated_at=at))

    def story(self, story_id: int) -> Story | None:
        return self._stories.get(story_id)

    def stories_since(self, since: datetime, *, relevant_only: bool = True) -> list[Story]:
        found = [
            story
            for story in self._stories.values()
            if story.updated_at >= since and (story.relevant or not relevant_only)
        ]
        return sorted(found, key=lambda story: story.updated_at, reverse=True)
