"""Custom actions, run through rasa_sdk's own executor types, and their replies as Rasa hands them
to our NLG."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import STATUS_RESPONSE, ActionHelplineStatus, status_lines
from bot import content, registry
from bot.content import blocks
from bot.crisis_contract import PARSE_KEY
from tests.conftest import rasa_modules_after

OSLO = ZoneInfo("Europe/Oslo")


def test_status_at_night_on_a_weekday() -> None:
    lines = "\n".join(status_lines(datetime(2026, 11, 17, 23, 30, tzinfo=OSLO)))
    assert "VO-linjen (Vold- og overgrepslinjen), 116 006: åpen nå" in lines
    assert "Kompetanseteamet" in lines and "stengt nå (hverdager 09–15)" in lines
    assert "Chat hos Alarmtelefonen for barn og unge på 116111.no: stengt nå" in lines
    assert "Chat hos VO-linjen (Vold- og overgrepslinjen): hverdager" in lines  # hours unknown
    assert registry.load().render(blocks()["footer_vo_linjen"]) not in lines  # the NLG adds it


def test_status_on_a_weekday_afternoon() -> None:
    lines = "\n".join(status_lines(datetime(2026, 11, 17, 17, 0, tzinfo=OSLO)))
    assert "Chat hos Alarmtelefonen for barn og unge på 116111.no: åpen nå." in lines
    assert re.search(r"Kompetanseteamet.*: stengt nå", lines)


def run_status(events: list[dict]) -> dict:
    """What the action server sends back: one response by name, with the status lines to fill in
    (no text or buttons of its own: the NLG renders it like every other reply)."""
    dispatcher = CollectingDispatcher()
    tracker = Tracker("t", {}, {}, events, False, None, {}, "action_listen")
    assert ActionHelplineStatus().run(dispatcher, tracker, {}) == []
    assert len(dispatcher.messages) == 1
    message = dispatcher.messages[0]
    assert message["response"] == STATUS_RESPONSE and not message["text"]
    assert not message["buttons"]
    return message


def user(crisis: dict | None = None) -> dict:
    return {"event": "user", "text": "x", "parse_data": {PARSE_KEY: crisis or {}}}


def test_action_utters_one_message_with_registry_numbers_only() -> None:
    text = run_status([])["status"]
    numbers = {re.sub(r"\s", "", n) for n in re.findall(r"\d[\d ]{1,10}\d", text)}
    assert numbers and numbers <= registry.load().numbers()


def test_status_on_christmas_day() -> None:
    lines = "\n".join(status_lines(datetime(2026, 12, 25, 12, 0, tzinfo=OSLO)))  # a Friday
    assert re.search(r"Kompetanseteamet.*: stengt nå", lines)
    assert "VO-linjen (Vold- og overgrepslinjen), 116 006: åpen nå" in lines


def through_the_nlg(events: list[dict]) -> dict:
    """The action's message as Rasa utters it: handed to our NLG (bot/nlg.py) by name."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot import nlg

    domain = Domain.load(str(content.DOMAIN_PATH))
    tracker = DialogueStateTracker.from_events("t", [
        UserUttered(e["text"], parse_data=e["parse_data"]) for e in events], slots=domain.slots)
    (uttered,) = asyncio.run(RemoteAction._utter_responses(
        [run_status(events)], CollectingOutputChannel(), nlg.RegistryNLG(domain=domain), tracker))
    return uttered.message()


def test_status_goes_through_the_nlg_like_every_reply() -> None:
    """The VO-linjen offer and call button, and after a crisis the emergency line and button, come
    from the NLG, as for every answer; the text is the action's status lines."""
    calm = through_the_nlg([user(), user({"categories": ["acute"], "negated": True})])
    assert calm["text"].startswith(status_lines()[0])
    assert "Ring VO-linjen på 116 006" in calm["text"] and "Ved akutt fare" not in calm["text"]
    assert "{status}" not in calm["text"]
    assert calm["buttons"] == [{"title": "Ring VO-linjen 116 006", "payload": "tel:116006"}]
    after = through_the_nlg([user({"categories": ["acute"]}), user()])
    assert "Ring VO-linjen på 116 006" in after["text"]
    assert after["text"].endswith("Ved akutt fare: ring 112.")
    assert [b["payload"] for b in after["buttons"]] == ["tel:116006", "tel:112"]


def test_the_status_response_is_in_the_domain_and_known_to_the_nlg() -> None:
    from bot import nlg

    assert STATUS_RESPONSE == nlg.STATUS_RESPONSE
    assert "{status}" in content.responses()[STATUS_RESPONSE][0]["text"]
    assert nlg.is_answer(STATUS_RESPONSE)  # the NLG adds the VO-linjen offer


def test_the_action_server_runs_on_rasa_sdk_alone() -> None:
    """The actions read content through bot.content, never through Rasa: a fresh interpreter, as
    the action server starts, loads no module of Rasa itself (rasa_sdk brings sanic)."""
    assert rasa_modules_after("import actions.actions as a\na.status_lines()") == []
