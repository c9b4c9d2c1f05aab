"""Custom Rasa NLU components. `CrisisDetector` is the crisis safety net: it runs last in the NLU
pipeline, so every channel gets it, and no intent (not even nlu_fallback) can outvote it."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot import crisis

CRISIS_KEY = "crisis"
INTENT_PREFIX = "crisis_"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class CrisisDetector(GraphComponent, IntentClassifier):
    """Rule layer (lemmas and patterns) joined with the crisis intents of the classifier.

    A category found by either layer wins: the intent becomes `crisis_<first category>` with
    confidence 1.0, and `parse_data["crisis"]` lists every category for the reply to cover.
    The rule layer's reading of the context can veto a category only the classifier found: when
    the message is clearly about the past, a general question, habitual, negated or denied, or
    states an adult age (child), and no present-danger cue is there (`crisis.Crisis.calm`). A
    category the rules found is never vetoed.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # A crisis intent anywhere this high in the ranking counts, even when another intent
        # won: recall comes first.
        return {"intent_threshold": 0.3}

    def __init__(self, config: dict[str, Any]) -> None:
        self.threshold = float(config["intent_threshold"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CrisisDetector:
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._process(message)
        return messages

    def _process(self, message: Message) -> None:
        text = message.get(TEXT) or ""
        tokens = message.get(TOKENS_NAMES[TEXT]) or []
        lemmas = [(t.lemma or t.text).lower() for t in tokens] if tokens else None
        found = crisis.detect(text, lemmas)
        categories = list(found.categories)
        negated = found.negated
        for candidate in message.get(INTENT_RANKING_KEY) or []:
            name = candidate.get(INTENT_NAME_KEY) or ""
            if name.startswith(INTENT_PREFIX) and candidate.get("confidence", 0) >= self.threshold:
                category = name[len(INTENT_PREFIX) :]
                if category not in categories and category not in found.calm:
                    categories.append(category)
                    negated = False
        if not categories:
            self._demote_vetoed(message, found.calm)
            return
        categories.sort(key=crisis.CATEGORIES.index)
        # The classifier's own crisis intent leads when it agrees with a found category (its reply
        # still covers every category); otherwise the most urgent category leads.
        top_name = (message.get(INTENT) or {}).get(INTENT_NAME_KEY) or ""
        if top_name.startswith(INTENT_PREFIX) and top_name[len(INTENT_PREFIX) :] in categories:
            categories.remove(top_name[len(INTENT_PREFIX) :])
            categories.insert(0, top_name[len(INTENT_PREFIX) :])
        message.set(
            CRISIS_KEY,
            {"categories": categories, "negated": negated, "lang": found.lang},
            add_to_output=True,
        )
        if negated:
            return
        top = {INTENT_NAME_KEY: INTENT_PREFIX + categories[0], "confidence": 1.0}
        ranking = [
            r
            for r in message.get(INTENT_RANKING_KEY) or []
            if r.get(INTENT_NAME_KEY) != top[INTENT_NAME_KEY]
        ]
        message.set(INTENT, top, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [top, *ranking], add_to_output=True)

    @staticmethod
    def _demote_vetoed(message: Message, calm: tuple[str, ...]) -> None:
        """The classifier's own top intent is a crisis the context vetoed ("hva er
        selvmordstanker"): the best non-crisis intent of the ranking takes its place."""
        top_name = (message.get(INTENT) or {}).get(INTENT_NAME_KEY) or ""
        if not top_name.startswith(INTENT_PREFIX) or top_name[len(INTENT_PREFIX) :] not in calm:
            return
        ranking = message.get(INTENT_RANKING_KEY) or []
        rest = [r for r in ranking if not (r.get(INTENT_NAME_KEY) or "").startswith(INTENT_PREFIX)]
        if not rest:
            return
        crisis_ranked = [r for r in ranking if r not in rest]
        message.set(INTENT, dict(rest[0]), add_to_output=True)
        message.set(INTENT_RANKING_KEY, [*rest, *crisis_ranked], add_to_output=True)
