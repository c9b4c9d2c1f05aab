"""Understanding what people write (issue 15): "Mente du ...?" instead of a wall when the NLU is
unsure, the fallback's way to a person, and phrasings of controlling behaviour that once fell
back, through the real model."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from rasa.shared.core.events import UserUttered

from bot import content, nlg, registry
from tests.conftest import say


def _event(*ranking: tuple[str, float]) -> UserUttered:
    return UserUttered("x", parse_data={"intent_ranking": [
        {"name": name, "confidence": conf} for name, conf in ranking]})


def test_two_plausible_topics_are_offered() -> None:
    event = _event(("nlu_fallback", 0.45), ("besoksforbud", 0.34), ("voldsalarm", 0.31),
                   ("greet", 0.1))
    assert nlg.best_topics(event) == ["besoksforbud", "voldsalarm"]


@pytest.mark.parametrize("ranking", [
    (("besoksforbud", 0.3), ("voldsalarm", 0.1)),  # the second is no real candidate
    (("besoksforbud", 0.2), ("voldsalarm", 0.16), ("krisesenter", 0.15)),  # nothing stands out
    (("greet", 0.4), ("thanks", 0.4)),  # small talk is never offered as a topic
    (("crisis_acute", 0.4), ("besoksforbud", 0.4)),  # nor is a crisis
])
def test_no_guess_without_two_plausible_topics(ranking: tuple[tuple[str, float], ...]) -> None:
    assert nlg.best_topics(_event(*ranking)) == []


def test_every_topic_names_an_intent_with_an_answer() -> None:
    domain = content.domain()
    for intent, title in content.topics().items():
        assert intent in domain["intents"], intent
        assert title and len(title) <= 30, intent


def test_fallback_offers_a_person_and_the_emergency_number(stack: Any) -> None:
    replies = say(stack, uuid.uuid4().hex, "blå bil på tirsdag")
    text = " ".join(r.get("text", "") for r in replies)
    buttons = [b for r in replies for b in r.get("buttons") or []]
    vo = registry.load()["vo_linjen"]
    assert "tel:" + vo.phone in {b["payload"] for b in buttons}
    assert registry.load()["police_emergency"].phone_display in text


# Issue 15 asks these to reach their topics; with 3 900 new examples from eight voices they still
# do not (DIET reads "kjæresten min" as the answer to "who is it about?", the other two fall back).
# Strict: the day a change makes them pass, this fails and the marker must go.
GAP = pytest.mark.xfail(strict=True, reason="issue 15: still falls back or picks inform_audience")


@pytest.mark.parametrize("text, topics", [
    pytest.param("kjæresten min sporer meg", {"digital_violence", "stalking"}, marks=GAP),
    pytest.param("han tar telefonen min", {"digital_violence", "psychological_violence"},
                 marks=GAP),
    pytest.param("hun kontrollerer hvem jeg møter",
                 {"psychological_violence", "social_control_honour"}, marks=GAP),
    ("han sporer telefonen min", {"digital_violence"}),
    ("hun bestemmer hvem jeg får være sammen med", {"psychological_violence",
                                                    "social_control_honour"}),
])
def test_controlling_behaviour_reaches_its_topic(stack: Any, text: str,
                                                 topics: set[str]) -> None:
    reply = say(stack, uuid.uuid4().hex, text)[0]
    expected = [content.responses()[f"utter_info_{t}"][0]["text"][:40] for t in topics]
    rendered = registry.load().render
    assert any(rendered(e) in reply["text"] for e in expected), reply["text"][:200]


def test_unsure_between_two_topics_asks_which_one(stack: Any) -> None:
    # A vague message the model splits between two topics (measured: krisesenter_children 0.43,
    # krisesenter 0.25, below the fallback threshold).
    sender = uuid.uuid4().hex
    reply = say(stack, sender, "barn og krisesenter")[0]
    payloads = [b["payload"] for b in reply["buttons"]]
    assert reply["text"].startswith("Jeg er ikke helt sikker på hva du mente")
    assert set(payloads[:2]) == {"/krisesenter", "/krisesenter_children"}
    assert "tel:" + registry.load()["vo_linjen"].phone in payloads
    # The topic button is a command the gateway lets through: it answers that topic.
    answer = say(stack, sender, "/krisesenter_children")[0]
    expected = content.responses()["utter_info_krisesenter_children"][0]["text"][:30]
    assert registry.load().render(expected) in answer["text"]
