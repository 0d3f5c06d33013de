"""The one place that speaks SQL: schema migrations, the `Store`, and the records it keeps."""

from storage.base import StoreError
from storage.records import Article, FeedState, NewArticle, Source, Story
from storage.store import Store

__all__ = ["Article", "FeedState", "NewArticle", "Source", "Store", "StoreError", "Story"]
