"""The feature pipeline and linear model, built from a small frozen configuration."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING

from classifiers.corpus import Document
from classifiers.text import normalise

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

# Input is already normalised, so a token is any run of non-spaces: "20.3.3" stays whole.
WORD_TOKENS = r"\S\S+"


@dataclass(frozen=True)
class PipelineConfig:
    """Everything that decides how a model is built; chosen by cross-validation on the corpus."""

    char_ngrams: tuple[int, int] = (2, 5)
    word_ngrams: tuple[int, int] = (1, 2)
    min_df: int = 2  # a feature must occur in two training documents
    title_repeat: int = 2  # the headline counts this many times
    max_chars: int = 1000  # of the text: the corpus is ledes, so the lede decides
    c: float = 1.0  # inverse regularisation of the linear SVM
    class_weight: str | None = "balanced"
    calibration_folds: int = 5
    random_state: int = 0

    def __post_init__(self) -> None:
        if tuple(self.word_ngrams) not in {(1, 1), (1, 2)}:
            raise ValueError(f"word_ngrams must be (1, 1) or (1, 2), not {self.word_ngrams}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> PipelineConfig:
        known = {field.name for field in fields(cls)}
        config = {key: value for key, value in values.items() if key in known}
        for key in ("char_ngrams", "word_ngrams"):
            if key in config:
                config[key] = tuple(config[key])
        return cls(**config)


def prepare(document: Document, config: PipelineConfig) -> str:
    """The one string the pipeline reads: normalised title (repeated) and the start of the text."""
    title = normalise(document.title)
    text = normalise(document.text[: config.max_chars])
    return " ".join([title] * config.title_repeat + [text])


def build_pipeline(config: PipelineConfig) -> Pipeline:
    # Imported here, not above: a process that only scores never loads scikit-learn.
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.svm import LinearSVC

    chars = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=config.char_ngrams,
        min_df=config.min_df,
        sublinear_tf=True,
        lowercase=False,
    )
    words = TfidfVectorizer(
        token_pattern=WORD_TOKENS,
        ngram_range=config.word_ngrams,
        min_df=config.min_df,
        sublinear_tf=True,
        lowercase=False,
    )
    linear = LinearSVC(
        C=config.c, class_weight=config.class_weight, random_state=config.random_state
    )
    calibrated = CalibratedClassifierCV(
        linear,
        method="sigmoid",
        cv=StratifiedKFold(
            config.calibration_folds, shuffle=True, random_state=config.random_state
        ),
        ensemble=False,
    )
    return Pipeline(
        [("features", FeatureUnion([("chars", chars), ("words", words)])), ("model", calibrated)]
    )
