"""The intent ensemble's second voice: a logistic regression over character n-grams of the text
and word n-grams of its lemmas, averaged with DIET's ranking (issue 15).

On the development sets a plain n-gram model generalises to new voices (typos, dialect, missing
æøå) better than DIET, and the two err on different messages, so their average beats either. The
lemmas come from our spaCy pipeline, whose table (`data/lexicon/nb_lemma_extra.tsv`) maps Nynorsk,
dialect and no-æøå spellings to the Bokmål lemma: that is the normalisation before featurisation.
Runs after DIET (and needs its full ranking: `ranking_length: 0`) and before FallbackClassifier,
which then judges the blended confidence.

An *answer* intent (`answers`: "kjæresten min" as the answer to "who is it about?") is a closed
class of words. A message with a content word its examples never use but other intents do says
more than such an answer ("kjæresten min sporer meg"), so that intent drops out of its ranking.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix, hstack
from sklearn.linear_model import LogisticRegression
from spacy.lang.nb.stop_words import STOP_WORDS

from bot import ngrams
from bot.crisis_model import prepare

NAME = "ngram_intent"
# Function words ("hans", "det", "om") say nothing about whether a message is more than an answer.
_STOP = frozenset(prepare(w) for w in STOP_WORDS)


class NgramModel:
    """Intent probabilities from char n-grams of the text and word n-grams of the lemmas."""

    def __init__(self, intents: Sequence[str], vectorizers: Sequence[Any],
                 coef: np.ndarray, intercept: np.ndarray,
                 answer_words: dict[str, list[str]] | None = None) -> None:
        self.intents = list(intents)
        self.chars, self.words = vectorizers
        self.coef = coef  # (n_intents, n_features)
        # sparse @ dense copies a non-contiguous operand on every call; transpose once here.
        self._coef_t = np.ascontiguousarray(coef.T)
        self.intercept = intercept
        # Per answer intent, the lemmas its examples use.
        self.answer_words = {k: frozenset(v) for k, v in (answer_words or {}).items()}

    @staticmethod
    def _inputs(texts: Sequence[str], lemmas: Sequence[str]) -> tuple[list[str], list[str]]:
        return [prepare(t) for t in texts], [prepare(lem) for lem in lemmas]

    @classmethod
    def fit(cls, texts: Sequence[str], lemmas: Sequence[str], intents: Sequence[str],
            c: float, answers: Sequence[str] = ()) -> NgramModel:
        chars, words = ngrams.vectorizer("char_wb", (2, 5), 2), ngrams.vectorizer("word", (1, 2))
        t, lem = cls._inputs(texts, lemmas)
        x = hstack([chars.fit_transform(t), words.fit_transform(lem)]).tocsr()
        clf = LogisticRegression(C=c, max_iter=3000, random_state=1).fit(x, list(intents))
        answer_words = {a: sorted({w for text, i in zip(lem, intents, strict=True) if i == a
                                   for w in text.split()}) for a in answers}
        return cls([str(i) for i in clf.classes_], (chars, words),
                   clf.coef_.astype(np.float32), clf.intercept_.astype(np.float32), answer_words)

    def says_more_than(self, intent: str, lemmas: str) -> bool:
        """Whether `lemmas` has a content word that the examples of the answer intent `intent`
        never use and other intents' examples do."""
        own = self.answer_words.get(intent)
        if own is None:
            return False
        known = self.words.vocabulary_
        return any(w in known and w not in own and w not in _STOP for w in prepare(lemmas).split())

    def _features(self, texts: Sequence[str], lemmas: Sequence[str]) -> csr_matrix:
        t, lem = self._inputs(texts, lemmas)
        return hstack([self.chars.transform(t), self.words.transform(lem)]).tocsr()

    def probabilities(self, texts: Sequence[str], lemmas: Sequence[str]) -> np.ndarray:
        logits = np.asarray(self._features(texts, lemmas) @ self._coef_t) + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def save(self, directory: Any) -> None:
        answer_words = {k: sorted(v) for k, v in self.answer_words.items()}
        ngrams.save(directory, NAME, (self.chars, self.words),
                    {"intents": self.intents, "answer_words": answer_words},
                    {"coef": self.coef, "intercept": self.intercept})

    @classmethod
    def load(cls, directory: Any) -> NgramModel:
        meta, vectorizers, arrays = ngrams.load(directory, NAME)
        return cls(meta["intents"], vectorizers, arrays["coef"], arrays["intercept"],
                   meta.get("answer_words"))


def lemma_text(message: Message) -> str:
    tokens = message.get(TOKENS_NAMES[TEXT]) or []
    return " ".join((t.lemma or t.text) for t in tokens) or (message.get(TEXT) or "")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class NgramIntentClassifier(GraphComponent, IntentClassifier):
    """Averages its own intent probabilities with DIET's ranking into the message's intent."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "weight": 0.5,  # this model's share of the average; DIET gets the rest
            "c": 20.0,  # inverse regularisation of the logistic regression
            "ranking_length": 10,
            "answers": [],  # intents that answer the bot's question with a closed class of words
        }

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage,
                 resource: Resource, model: NgramModel | None = None) -> None:
        self.config = {**self.get_default_config(), **config}
        self.weight = float(self.config["weight"])
        self._storage = model_storage
        self._resource = resource
        self.model = model

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> NgramIntentClassifier:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(INTENT)]
        self.model = NgramModel.fit([m.get(TEXT) or "" for m in examples],
                                    [lemma_text(m) for m in examples],
                                    [m.get(INTENT) for m in examples], float(self.config["c"]),
                                    list(self.config["answers"]))
        with self._storage.write_to(self._resource) as directory:
            self.model.save(directory)
        return self._resource

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> NgramIntentClassifier:
        with model_storage.read_from(resource) as directory:
            return cls(config, model_storage, resource, NgramModel.load(directory))

    def process(self, messages: list[Message]) -> list[Message]:
        todo = [m for m in messages if (m.get(TEXT) or "").strip()]
        if self.model is None or not todo:
            return messages
        lemmas = [lemma_text(m) for m in todo]
        probs = self.model.probabilities([m.get(TEXT) for m in todo], lemmas)
        for message, lem, row in zip(todo, lemmas, probs, strict=True):
            self._blend(message, dict(zip(self.model.intents, row.tolist(), strict=True)), lem)
        return messages

    def _blend(self, message: Message, own: dict[str, float], lemmas: str) -> None:
        diet = {str(r.get(INTENT_NAME_KEY)): float(r.get("confidence") or 0.0)
                for r in message.get(INTENT_RANKING_KEY) or []}
        if not diet:  # DIET said nothing (no features): this model alone
            diet = own
        blended = {name: self.weight * own.get(name, 0.0) + (1 - self.weight) * diet.get(name, 0.0)
                   for name in own.keys() | diet.keys()}
        ranked = sorted(blended.items(), key=lambda kv: kv[1], reverse=True)
        if self.model is not None and self.model.says_more_than(ranked[0][0], lemmas):
            ranked = ranked[1:]
        ranking = [{INTENT_NAME_KEY: n, "confidence": c}
                   for n, c in ranked[: int(self.config["ranking_length"])]]
        message.set(INTENT, ranking[0], add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
