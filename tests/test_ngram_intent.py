"""The intent ensemble's n-gram model (bot/ngram_intent.py): it learns from few examples, its
probabilities are a distribution, it survives saving, and the average with DIET's ranking can
change the winner. The whole pipeline is measured in tests/test_understanding.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.ngram_intent import NgramIntentClassifier, NgramModel

TEXTS = ["hva er et krisesenter", "kan jeg bo på krisesenter", "krisesenteret, hvem kan bo der",
         "hvordan anmelder jeg", "kan jeg anmelde vold til politiet", "anmelde eksen min",
         "hei", "hallo", "god kveld"]
INTENTS = ["krisesenter"] * 3 + ["report_police"] * 3 + ["greet"] * 3


@pytest.fixture(scope="module")
def model() -> NgramModel:
    return NgramModel.fit(TEXTS, TEXTS, INTENTS, c=20.0)


def test_learns_and_generalises_to_a_misspelling(model: NgramModel) -> None:
    probs = model.probabilities(["kan jeg bo paa krisesentret"], ["kan jeg bo paa krisesentret"])
    assert model.intents[int(probs.argmax())] == "krisesenter"
    assert np.isclose(probs.sum(), 1.0)


def test_saved_model_gives_the_same_probabilities(model: NgramModel, tmp_path: Path) -> None:
    model.save(tmp_path)
    again = NgramModel.load(tmp_path)
    texts = ["anmelde", "hei der"]
    assert again.intents == model.intents
    assert np.allclose(again.probabilities(texts, texts), model.probabilities(texts, texts))


def _classifier(model: NgramModel, weight: float) -> NgramIntentClassifier:
    return NgramIntentClassifier({"weight": weight}, None, None, model)  # type: ignore[arg-type]


def _message(text: str, diet: dict[str, float]) -> Message:
    message = Message({TEXT: text})
    ranking = [{"name": n, "confidence": c} for n, c in diet.items()]
    message.set(INTENT_RANKING_KEY, ranking)
    message.set(INTENT, ranking[0])
    return message


def test_the_average_can_overrule_an_unsure_diet(model: NgramModel) -> None:
    # DIET leans to greet; the n-grams know "anmelde": the average says report_police.
    diet = {"greet": 0.4, "report_police": 0.35, "krisesenter": 0.25}
    message = _message("anmelde vold", diet)
    _classifier(model, 0.5).process([message])
    assert message.get(INTENT)["name"] == "report_police"
    ranking: list[dict[str, Any]] = message.get(INTENT_RANKING_KEY)
    assert np.isclose(sum(r["confidence"] for r in ranking), 1.0, atol=1e-3)
    # With no weight of its own the n-gram model changes nothing.
    message = _message("anmelde vold", diet)
    _classifier(model, 0.0).process([message])
    assert message.get(INTENT)["name"] == "greet"


AUDIENCE = ["kjæresten min", "det gjelder meg", "venninna mi", "det er for søsteren min",
            "han sporer telefonen min", "hun leser meldingene mine", "hei", "hallo"]
AUDIENCE_INTENTS = ["inform_audience"] * 4 + ["digital_violence"] * 2 + ["greet"] * 2


def test_an_answer_intent_gives_way_when_the_message_says_more() -> None:
    model = NgramModel.fit(AUDIENCE, AUDIENCE, AUDIENCE_INTENTS, c=20.0,
                           answers=["inform_audience"])
    assert not model.says_more_than("inform_audience", "kjæresten min")
    # A function word ("hans") is no more; a word other intents use ("sporer") is.
    assert not model.says_more_than("inform_audience", "det gjelder søsteren min og hans barn")
    assert model.says_more_than("inform_audience", "kjæresten min sporer meg")
    assert not model.says_more_than("digital_violence", "kjæresten min sporer meg")
    # The answer survives saving, and the ensemble then ranks the topic first.
    diet = {"inform_audience": 0.6, "digital_violence": 0.3, "greet": 0.1}
    for text, expected in (("kjæresten min sporer meg", "digital_violence"),
                           ("kjæresten min", "inform_audience")):
        message = _message(text, diet)
        _classifier(model, 0.5).process([message])
        assert message.get(INTENT)["name"] == expected, text
