"""Statistical crisis layer: one linear classifier per crisis category over character and word
n-grams, trained on the crisis corpus (`data/crisis/*.yml`, many independent voices and hard
negatives) together with the NLU training examples. It owns the corpus format, the text
preparation, training and scoring; `bot/crisis_verdict.py` joins its scores with the rule layer
(`bot/crisis.py`).

Character n-grams within words carry typos, missing æøå and dialect spellings; word uni- and
bigrams carry phrases ("ikke her i morgen"). Redaction placeholders (`[telefon]`, `[navn]`) are
removed first: they say nothing about danger, and a classifier that sees only them guesses.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot import ngrams
from bot.crisis_contract import INTENT_PREFIX, TRAINED_SETS

ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = ROOT / "data" / "crisis"
SETS_DIR = ROOT / "tests" / "crisis"

_PLACEHOLDER = re.compile(r"\[[a-zæøåA-ZÆØÅ_-]+\]")
_REPEAT = re.compile(r"(\w)\1{2,}")
_NON_WORD = re.compile(r"[^\w\s']+")
_SPACE = re.compile(r"\s+")
# æ becomes "ae", not "e": "hæ" must not read as the English "he".
_FOLD = str.maketrans({"å": "a", "ø": "o", "æ": "ae", "é": "e", "ä": "a", "ö": "o"})


def without_placeholders(text: str) -> str:
    """`text` without redaction placeholders, which say nothing about danger."""
    if "[" not in text:
        return text
    return _SPACE.sub(" ", _PLACEHOLDER.sub(" ", text)).strip()


def prepare(text: str) -> str:
    """The form both training and scoring see: NFKC, lower case, no placeholders, letter runs
    collapsed ("hjeeelp"), ø and å folded to the spellings people type without them."""
    text = unicodedata.normalize("NFKC", without_placeholders(text)).lower().replace("’", "'")
    text = _REPEAT.sub(r"\1\1", text)
    text = _NON_WORD.sub(" ", text).translate(_FOLD)
    return _SPACE.sub(" ", text).strip()


@dataclass(frozen=True)
class Example:
    text: str
    categories: tuple[str, ...]  # empty: not a crisis


def read_cases(path: Path) -> list[Example]:
    """A labelled file: `crisis: [{text, categories}]` and `non_crisis: [{text}]`."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = [Example(str(c["text"]), tuple(c["categories"])) for c in raw.get("crisis") or []]
    out += [Example(str(c["text"]), ()) for c in raw.get("non_crisis") or []]
    return out


def corpus_files(directory: Path = CORPUS_DIR) -> list[Path]:
    return sorted(directory.glob("*.yml"))


def training_files() -> list[Path]:
    """The corpus and the labelled sets trained on (`TRAINED_SETS`)."""
    return [*corpus_files(), *(SETS_DIR / name for name in TRAINED_SETS)]


def corpus_fingerprint() -> str:
    h = hashlib.sha256()
    for path in training_files():
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def read_corpus(directory: Path = CORPUS_DIR) -> list[Example]:
    return [e for path in corpus_files(directory) for e in read_cases(path)]


class CrisisModel:
    """Per-category probabilities for a message; fitted on examples, saved as plain arrays."""

    def __init__(
        self,
        categories: Sequence[str],
        vectorizers: Sequence[TfidfVectorizer],
        coef: np.ndarray,
        intercept: np.ndarray,
    ) -> None:
        self.categories = tuple(categories)
        self.vectorizers = tuple(vectorizers)
        self.coef = coef  # (n_categories, n_features)
        # sparse @ dense copies a non-contiguous operand on every call; transpose once here.
        self._coef_t = np.ascontiguousarray(coef.T)
        self.intercept = intercept  # (n_categories,)

    @classmethod
    def fit(
        cls,
        examples: Iterable[Example],
        categories: Sequence[str],
        c: float = 4.0,
        min_df: int = 2,
    ) -> CrisisModel:
        examples = list(examples)
        texts = [prepare(e.text) for e in examples]
        vectorizers = (ngrams.vectorizer("char_wb", (2, 5), min_df),
                       ngrams.vectorizer("word", (1, 2), min_df))
        x = hstack([v.fit_transform(texts) for v in vectorizers]).tocsr()
        coef = np.zeros((len(categories), x.shape[1]), dtype=np.float32)
        intercept = np.zeros(len(categories), dtype=np.float32)
        for i, category in enumerate(categories):
            y = np.array([category in e.categories for e in examples])
            if y.all() or not y.any():
                intercept[i] = 10.0 if y.all() else -10.0
                continue
            clf = LogisticRegression(C=c, class_weight="balanced", solver="liblinear",
                                     max_iter=1000, random_state=1)
            clf.fit(x, y)
            coef[i] = clf.coef_[0]
            intercept[i] = clf.intercept_[0]
        return cls(categories, vectorizers, coef, intercept)

    def features(self, texts: Sequence[str]) -> csr_matrix:
        prepared = [prepare(t) for t in texts]
        return hstack([v.transform(prepared) for v in self.vectorizers]).tocsr()

    def scores_many(self, texts: Sequence[str], min_words: int = 1) -> list[dict[str, float]]:
        """Per-category probabilities; 0 for a text of fewer than `min_words` words, on which a
        bag of n-grams has too little to go on ("mer", "hæ")."""
        logits = self.features(texts) @ self._coef_t + self.intercept
        probs = 1.0 / (1.0 + np.exp(-np.asarray(logits)))
        short = [len(prepare(t).split()) < min_words for t in texts]
        return [dict(zip(self.categories, (0.0 if s else float(p) for p in row), strict=True))
                for row, s in zip(probs, short, strict=True)]

    def scores(self, text: str, min_words: int = 1) -> dict[str, float]:
        return self.scores_many([text], min_words)[0]

    def save(self, directory: Path) -> None:
        ngrams.save(directory, "crisis_model", self.vectorizers,
                    {"categories": list(self.categories)},
                    {"coef": self.coef, "intercept": self.intercept})

    @classmethod
    def load(cls, directory: Path) -> CrisisModel:
        meta, vectorizers, arrays = ngrams.load(directory, "crisis_model")
        return cls(meta["categories"], vectorizers, arrays["coef"], arrays["intercept"])


def training_examples(
    intents: Iterable[tuple[str, str]], prefix: str = INTENT_PREFIX
) -> list[Example]:
    """The corpus, the sets trained on, and the NLU examples as (text, intent): a
    `crisis_<category>` intent labels its category, every other intent is a negative."""
    examples = [e for path in training_files() for e in read_cases(path)]
    for text, intent in intents:
        label = (intent[len(prefix):],) if intent.startswith(prefix) else ()
        examples.append(Example(text, label))
    return examples
