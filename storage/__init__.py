"""The one place that speaks SQL: schema migrations, the `Store`, and the records it keeps."""

__all__ = [
    "Article",
    "FeedState",
    "Label",
    "LabelledArticle",
    "ModelRecord",
    "NewArticle",
    "Source",
    "Store",
    "Story",
    "StorySignature",
]
