"""The product as `make run` starts it (action server, Rasa, gateway; in-memory stores), through
the gateway's REST contract."""

from __future__ import annotations

import json
import urllib.request
import uuid
from typing import Any

from bot import registry
from tests.conftest import say


def test_greeting_in_norwegian(stack: Any) -> None:
    sender = uuid.uuid4().hex
    replies = say(stack, sender, "hei")
    assert replies and all(set(r) <= {"recipient_id", "text", "buttons"} for r in replies)
    assert replies[0]["recipient_id"] == sender
    assert replies[0]["text"].startswith("Hei!")
    assert "ikke et menneske" in replies[0]["text"]
    assert {b["payload"] for b in replies[0]["buttons"]} >= {"/need_help"}


def test_information_answer_offers_vo_linjen(stack: Any) -> None:
    replies = say(stack, uuid.uuid4().hex, "hva er et krisesenter")
    text = replies[0]["text"]
    assert "krisesenter" in text.lower()
    assert "VO-linjen" in text and registry.load()["vo_linjen"].phone_display in text


def test_conversation_keeps_its_state(stack: Any) -> None:
    sender = uuid.uuid4().hex
    say(stack, sender, "jeg trenger hjelp")
    first = say(stack, sender, '/inform_audience{"audience":"other"}')
    other = uuid.uuid4().hex
    say(stack, other, "jeg trenger hjelp")
    second = say(stack, other, '/inform_audience{"audience":"self"}')
    assert first[0]["text"] != second[0]["text"]


def test_custom_action_reads_the_registry(stack: Any) -> None:
    replies = say(stack, uuid.uuid4().hex, "hvilke hjelpelinjer er åpne nå")
    text = " ".join(r["text"] for r in replies)
    assert "åpen nå" in text and registry.load()["vo_linjen"].phone_display in text


def test_health_and_readiness(stack: Any) -> None:
    with urllib.request.urlopen(stack.gateway + "/healthz", timeout=5) as resp:
        assert json.loads(resp.read()) == {"status": "ok"}
    with urllib.request.urlopen(stack.gateway + "/readyz", timeout=5) as resp:
        body = json.loads(resp.read())
    assert body["ready"] is True and body["checks"] == {"rasa": True, "actions": True}
