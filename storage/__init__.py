"""The one place that speaks SQL: schema migrations, the `Store`, and the records it keeps."""

from storage.base import StoreError
from storage.records import (
    Article,
    FeedState,
    Label,
    LabelledArticle,
    ModelRecord,
    NewArticle,
    Source,
    Story,
    StorySignature,
)
from storage.store import Store

__all__ = [
    "Article",
    "FeedState",
    "Label",
    "LabelledArticle",
    "ModelRecord",
    "NewArticle",
    "Source",
    "Store",
    "StoreError",
    "Story",
    "StorySignature",
]
