"""Custom Rasa NLU components. `CrisisDetector` is the crisis layer: it runs last in the NLU
pipeline, so every channel gets it, and no intent (not even nlu_fallback) can outvote it."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import crisis, crisis_model, crisis_verdict
from bot.crisis_contract import CATEGORIES, FALLBACK_INTENT, INTENT_PREFIX, PARSE_KEY

# Categories without a dialogue path of their own take another's intent; the NLG gives them
# their own text (data/content/blocks.yml crisis_lead).
INTENT_OF = {"harm_others": "acute"}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class CrisisDetector(GraphComponent, IntentClassifier):
    """Rule layer (`bot/crisis.py`) joined with a per-category classifier trained on the crisis
    corpus (`bot/crisis_model.py`); `crisis_verdict.decide` joins them.

    A crisis found sets the intent to `crisis_<first category>` with confidence 1.0 and
    `parse_data["crisis"]` to the categories, the maybe tier and, when the message also asked
    something ("... er det noen som kan hjelpe menn?"), the info intent that answers it. DIET's
    own crisis intents no longer decide: when DIET says crisis and the layer does not, the best
    other intent takes its place (or the fallback) and the category joins the maybe tier.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # Per-category probability from which the classifier alone raises a crisis
            # (calibrated with `python -m bench.crisis_calibrate` on the development sets).
            "high": {c: 0.5 for c in CATEGORIES},
            # From here up, an unsure category gets the maybe tier's safety line.
            "maybe": 0.3,
            # Below this, a (non-urgent) rule hit goes to the maybe tier instead of a crisis.
            "confirm": 0.0,
            # From here up, the classifier overrides the rules' context (past, question, adult).
            "sure": 1.01,
            # After a fallback, or an answer the NLU is unsure of (below `unsure_below`), a
            # category this likely is a risk cue: the maybe tier again ("det skjedde igjen i natt").
            "fallback_cue": 0.15,
            "unsure_below": 0.45,
            # An info intent this confident in DIET's ranking is answered after a crisis reply.
            "question_threshold": 0.3,
            # The classifier abstains on shorter messages ("mer", "hæ"); the rules still hold.
            "min_words": 4,
            # When DIET is this sure of a non-crisis intent (a calm question), a category only
            # the classifier found needs `info_high` (calibrated on the held-out NLU set).
            "info_confident": 0.6,
            "info_high": 0.8,
            # Answers to the bot's own question ("det er for meg selv" to "who is it about?"):
            # when the NLU is this sure (`info_confident`) of one, the classifier alone raises
            # only the maybe tier. Their words are a closed class the crisis corpus uses in
            # other senses ("spør for meg selv" after a question about pills).
            "answers": [],
            # As FallbackClassifier's: a demoted crisis intent's successor needs this much.
            "fallback_threshold": 0.45,
            "c": 4.0,
        }

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        # The corpus and the classifier's code are inputs Rasa's graph does not see.
        h = hashlib.sha256(crisis_model.corpus_fingerprint().encode())
        h.update(Path(crisis_model.__file__).read_bytes())
        return h.hexdigest()

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: crisis_model.CrisisModel | None = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self.high = {c: float(self.config["high"].get(c, 1.0)) for c in CATEGORIES}
        self.maybe = float(self.config["maybe"])
        self.confirm = float(self.config["confirm"])
        self.sure = float(self.config["sure"])
        self.fallback_cue = float(self.config["fallback_cue"])
        self.unsure_below = float(self.config["unsure_below"])
        self.question_threshold = float(self.config["question_threshold"])
        self.fallback_threshold = float(self.config["fallback_threshold"])
        self.min_words = int(self.config["min_words"])
        self.info_confident = float(self.config["info_confident"])
        self.info_high = {c: max(v, float(self.config["info_high"])) for c, v in self.high.items()}
        self.answers = frozenset(self.config["answers"])
        self._storage = model_storage
        self._resource = resource
        self.model = model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CrisisDetector:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = crisis_model.training_examples(
            ((m.get(TEXT) or "", m.get(INTENT) or "") for m in training_data.intent_examples),
            INTENT_PREFIX)
        self.model = crisis_model.CrisisModel.fit(
            examples, CATEGORIES, c=float(self.config["c"]))
        with self._storage.write_to(self._resource) as directory:
            self.model.save(directory)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> CrisisDetector:
        with model_storage.read_from(resource) as directory:
            model = crisis_model.CrisisModel.load(directory)
        return cls(config, model_storage, resource, model)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._process(message)
        return messages

    def _scores(self, text: str) -> dict[str, float]:
        if self.model is None:  # not trained: the rule layer alone still holds
            return {}
        return self.model.scores(text, self.min_words)

    def _process(self, message: Message) -> None:
        text = message.get(TEXT) or ""
        tokens = message.get(TOKENS_NAMES[TEXT]) or []
        clean = crisis_model.without_placeholders(text)
        lemmas = None
        if tokens and clean == text:
            lemmas = [(t.lemma or t.text).lower() for t in tokens]
        found = crisis.detect(clean, lemmas)
        scores = self._scores(text)
        ranking = message.get(INTENT_RANKING_KEY) or []
        top_name = (message.get(INTENT) or {}).get(INTENT_NAME_KEY) or ""
        other, confidence = self._best_other(ranking)
        calm_question = confidence >= self.info_confident
        high = self.info_high if calm_question else self.high
        # A set-aside hit in a question DIET knows ("hva er menneskehandel?"), unless the message
        # reports a recent event.
        if calm_question and not found.recent:
            found = dataclasses.replace(found, framed=())
        # Violence described in a question the NLU knows well, nothing present ("kjæresten min
        # slår meg, er det vold?"): the maybe tier's safety line and the answer; the classifier
        # may still raise it (`info_high`).
        if calm_question and found.described:
            kept = tuple(c for c in found.categories if c not in found.described)
            framed = tuple(c for c in CATEGORIES if c in found.framed or c in found.described)
            found = dataclasses.replace(found, categories=kept, framed=framed)
        answer = calm_question and other in self.answers
        verdict = crisis_verdict.decide(found, scores, high, self.maybe, self.confirm, self.sure,
                                        may_raise=not answer)
        maybe = list(verdict.maybe)

        if not verdict.categories:
            if top_name.startswith(INTENT_PREFIX):  # DIET alone says crisis: demote it
                category = top_name[len(INTENT_PREFIX):]
                if category in CATEGORIES and category not in found.calm and not found.unreal:
                    maybe.append(category)
                top_name = self._demote(message)
            top_confidence = float((message.get(INTENT) or {}).get("confidence") or 0.0)
            unsure = top_name == FALLBACK_INTENT or top_confidence < self.unsure_below
            # A joke, game, film or sport is no risk cue on its own ("killed so many zombies").
            if unsure and not maybe and scores and not found.unreal:
                best = max(scores, key=scores.__getitem__)
                if scores[best] >= self.fallback_cue:
                    # A weak cue names no one's age: the emergency line fits a child too, the
                    # child line does not fit an adult.
                    maybe.append("acute" if best == "child" else best)
        maybe = sorted(set(maybe) - set(verdict.categories), key=CATEGORIES.index)
        if not verdict.categories and not maybe:
            return
        info: dict[str, Any] = {
            "categories": list(verdict.categories),
            "negated": verdict.negated,
            "lang": found.lang,
        }
        if maybe:
            info["maybe"] = maybe
        question = self._question(ranking)
        if question and verdict.categories:
            info["question"] = question
        message.set(PARSE_KEY, info, add_to_output=True)
        if not verdict.categories or verdict.negated:
            return
        # DIET's best-ranked crisis intent leads when it is one of the categories (it knows which
        # is the person's main danger: "jeg er 12 og pappa slår meg" is a child at risk first);
        # the reply covers every category either way.
        ranked = [(r.get(INTENT_NAME_KEY) or "")[len(INTENT_PREFIX):] for r in ranking
                  if (r.get(INTENT_NAME_KEY) or "").startswith(INTENT_PREFIX)]
        first = next((c for c in ranked if c in verdict.categories), verdict.categories[0])
        if "harm_others" in verdict.categories:  # the writer may hurt someone: that leads
            first = "harm_others"
        info["categories"] = [first, *(c for c in verdict.categories if c != first)]
        top = {INTENT_NAME_KEY: INTENT_PREFIX + INTENT_OF.get(first, first), "confidence": 1.0}
        rest = [r for r in ranking if r.get(INTENT_NAME_KEY) != top[INTENT_NAME_KEY]]
        message.set(INTENT, top, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [top, *rest], add_to_output=True)

    @staticmethod
    def _best_other(ranking: list[dict[str, Any]]) -> tuple[str, float]:
        """DIET's best intent that is neither a crisis nor the fallback, and its confidence."""
        others = [(float(r.get("confidence", 0.0)), str(r.get(INTENT_NAME_KEY) or ""))
                  for r in ranking
                  if not (r.get(INTENT_NAME_KEY) or "").startswith(INTENT_PREFIX)
                  and r.get(INTENT_NAME_KEY) != FALLBACK_INTENT]
        confidence, name = max(others, default=(0.0, ""))
        return name, confidence

    def _question(self, ranking: list[dict[str, Any]]) -> str | None:
        """The info intent DIET is confident about besides any crisis intent."""
        for candidate in ranking:
            name = candidate.get(INTENT_NAME_KEY) or ""
            if name.startswith(INTENT_PREFIX) or name == FALLBACK_INTENT:
                continue
            if candidate.get("confidence", 0.0) < self.question_threshold:
                return None
            return name
        return None

    def _demote(self, message: Message) -> str:
        """DIET's crisis intent gives way to the best other intent, or to the fallback when that
        one is not confident enough. Returns the new top intent's name."""
        ranking = message.get(INTENT_RANKING_KEY) or []
        rest = [r for r in ranking
                if not (r.get(INTENT_NAME_KEY) or "").startswith(INTENT_PREFIX)
                and r.get(INTENT_NAME_KEY) != FALLBACK_INTENT]
        crisis_ranked = [r for r in ranking if r not in rest]
        if rest and rest[0].get("confidence", 0.0) >= self.fallback_threshold:
            top = dict(rest[0])
        else:
            top = {INTENT_NAME_KEY: FALLBACK_INTENT, "confidence": 1.0}
        message.set(INTENT, top, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [top, *rest, *crisis_ranked], add_to_output=True)
        return str(top[INTENT_NAME_KEY])
