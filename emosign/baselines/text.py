"""Text baselines: a TF-IDF linear classifier on the annotators' cue descriptions (a reference
point, not a model of the video) or on the English captions, and the VADER lexicon on captions.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

from emosign.baselines.registry import Baseline, Example, register
from emosign.errors import InputError, MissingExtraError
from emosign.vocab import SENTIMENT_3_NAMES, SENTIMENT_7_NAMES, SENTIMENT_MAX

__all__ = [
    "TfidfClassifier",
    "Vader",
]

# Every word counts, one-letter ones too ("a", "I" carry no sentiment, but a vocabulary must
# never end up empty because of them).
_WORD_NGRAMS = TfidfVectorizer(ngram_range=(1, 2), token_pattern=r"(?u)\b\w+\b").build_analyzer()


@functools.lru_cache(maxsize=8192)
def _ngrams(text: str) -> tuple[str, ...]:
    """The word uni- and bigrams scikit-learn's analyzer gives ``text``, computed once per text:
    cross-validation fits the same texts many times (4 signer folds + 15 k-fold fits)."""
    return tuple(_WORD_NGRAMS(text))


@dataclass
class TfidfClassifier:
    """TF-IDF of word uni- and bigrams, then a class-balanced logistic regression."""

    text_of: Callable[[Example], str]
    seed: int
    pipeline: Pipeline | None = field(default=None, init=False)
    only_class: int | None = field(default=None, init=False)

    def fit(self, examples: Sequence[Example], y: np.ndarray, classes: Sequence[str]) -> TfidfClassifier:
        texts = [self.text_of(e) for e in examples]
        if len(np.unique(y)) == 1 or not any(t.strip() for t in texts):
            # One class, or no text at all: nothing to learn, answer the training majority.
            self.only_class = int(np.argmax(np.bincount(y)))
            return self
        self.pipeline = make_pipeline(
            # The n-grams of _ngrams are those TfidfVectorizer(ngram_range=(1, 2),
            # token_pattern=...) makes itself, in the same order: the same matrix.
            TfidfVectorizer(analyzer=_ngrams, sublinear_tf=True),
            LogisticRegression(max_iter=5000, class_weight="balanced", random_state=self.seed),
        )
        self.pipeline.fit(texts, y)
        return self

    def predict(self, examples: Sequence[Example]) -> np.ndarray:
        if self.only_class is not None:
            return np.full(len(examples), self.only_class)
        assert self.pipeline is not None, "predict before fit"
        return self.pipeline.predict([self.text_of(e) for e in examples]).astype(int)


def _cues(example: Example) -> str:
    return " ".join(example.cues)


def _caption(example: Example) -> str:
    return example.caption or ""


@dataclass
class Vader:
    """The VADER compound score of the caption, thresholded into sentiment classes.

    3 classes: positive above +0.05, negative below -0.05, neutral between (VADER's own
    thresholds). 7 classes: round(3 x compound), so -1...1 spans the -3...3 scale.
    """

    classes: tuple[str, ...] = field(default=(), init=False)

    def fit(self, examples: Sequence[Example], y: np.ndarray, classes: Sequence[str]) -> Vader:
        if tuple(classes) not in (SENTIMENT_3_NAMES, SENTIMENT_7_NAMES):
            raise InputError("VADER answers the sentiment tasks only")
        self.classes = tuple(classes)
        return self

    def predict(self, examples: Sequence[Example]) -> np.ndarray:
        try:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
        except ImportError:
            raise MissingExtraError("the VADER baseline needs `pip install vaderSentiment`") from None
        analyzer = SentimentIntensityAnalyzer()
        compound = np.array([analyzer.polarity_scores(e.caption or "")["compound"] for e in examples])
        if self.classes == SENTIMENT_3_NAMES:
            return np.where(compound > 0.05, 2, np.where(compound < -0.05, 0, 1))
        return np.rint(compound * SENTIMENT_MAX).astype(int) + SENTIMENT_MAX


register(Baseline(
    "cue_text_tfidf",
    "TF-IDF + logistic regression on the three annotators' cue descriptions: how much of the "
    "label the Deaf annotators' own explanations carry (a reference point, not a video model)",
    "reference", frozenset({"labels", "cues"}), learned=True,
    make=lambda seed: TfidfClassifier(_cues, seed),
))
register(Baseline(
    "caption_tfidf",
    "TF-IDF + logistic regression on the English caption (the video+caption setting, text only)",
    "text", frozenset({"labels", "captions"}), learned=True,
    make=lambda seed: TfidfClassifier(_caption, seed),
))
register(Baseline(
    "caption_vader",
    "the VADER lexicon's compound score of the caption (the tool the paper used to select clips)",
    "text", frozenset({"captions"}), learned=False, make=lambda seed: Vader(),
    tasks=frozenset({"sentiment_7", "sentiment_3"}),
))
