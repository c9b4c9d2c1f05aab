"""Custom Rasa NLU components. `CrisisDetector` is the crisis layer: it runs last in the NLU
pipeline, so every channel gets it, and no intent (not even nlu_fallback) can outvote it."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import crisis_layer, crisis_model
from bot.crisis_contract import CATEGORIES, INTENT_PREFIX, PARSE_KEY


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class CrisisDetector(GraphComponent, IntentClassifier):
    """Rule layer (`bot/crisis.py`) joined with a per-category classifier trained on the crisis
    corpus (`bot/crisis_model.py`). This component trains the classifier and gathers each
    message's inputs; `bot/crisis_layer.py` decides, at parse time.

    A crisis found sets the intent to `crisis_<first category>` with confidence 1.0 and
    `parse_data["crisis"]` to the categories, the maybe tier and, when the message also asked
    something ("... er det noen som kan hjelpe menn?"), the info intent that answers it. DIET's
    own crisis intents no longer decide: when DIET says crisis and the layer does not, the best
    other intent takes its place (or the fallback) and the category joins the maybe tier.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return dict(crisis_layer.DEFAULTS)

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
        self.settings = crisis_layer.Settings.from_config(self.config)
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

    def inputs(self, message: Message) -> crisis_layer.Inputs:
        """What the layer sees of `message`: its text, lemmas, scores and the NLU's ranking."""
        text = message.get(TEXT) or ""
        tokens = message.get(TOKENS_NAMES[TEXT]) or []
        clean = crisis_model.without_placeholders(text)
        lemmas = None
        if tokens and clean == text:
            lemmas = [(t.lemma or t.text).lower() for t in tokens]
        # Not trained: the rule layer alone still holds.
        scores = self.model.scores(text, self.settings.min_words) if self.model else {}
        return crisis_layer.Inputs(clean, lemmas, scores, dict(message.get(INTENT) or {}),
                                   list(message.get(INTENT_RANKING_KEY) or []))

    def _process(self, message: Message) -> None:
        outcome = crisis_layer.judge(self.inputs(message), self.settings)
        if outcome.info is not None:
            message.set(PARSE_KEY, outcome.info, add_to_output=True)
        if outcome.intent is not None:
            message.set(INTENT, outcome.intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, outcome.ranking, add_to_output=True)
