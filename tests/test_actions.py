"""Custom actions, run through rasa_sdk's own executor types."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import ActionHelplineStatus, status_lines
from bot import registry

OSLO = ZoneInfo("Europe/Oslo")


def test_status_at_night_on_a_weekday() -> None:
    lines = "\n".join(status_lines(datetime(2026, 11, 17, 23, 30, tzinfo=OSLO)))
    assert "VO-linjen (Vold- og overgrepslinjen), 116 006: åpen nå" in lines
    assert "Kompetanseteamet" in lines and "stengt nå (hverdager 09–15)" in lines
    assert "Chat hos Alarmtelefonen for barn og unge på 116111.no: stengt nå" in lines
    assert "Chat hos VO-linjen (Vold- og overgrepslinjen): hverdager" in lines  # hours unknown
    assert lines.rstrip().endswith("gratis, anonymt og døgnåpent.")


def test_status_on_a_weekday_afternoon() -> None:
    lines = "\n".join(status_lines(datetime(2026, 11, 17, 17, 0, tzinfo=OSLO)))
    assert "Chat hos Alarmtelefonen for barn og unge på 116111.no: åpen nå." in lines
    assert re.search(r"Kompetanseteamet.*: stengt nå", lines)


def test_action_utters_one_message_with_registry_numbers_only() -> None:
    dispatcher = CollectingDispatcher()
    tracker = Tracker("t", {}, {}, [], False, None, {}, "action_listen")
    events = ActionHelplineStatus().run(dispatcher, tracker, {})
    assert events == []
    assert len(dispatcher.messages) == 1
    text = dispatcher.messages[0]["text"]
    numbers = {re.sub(r"\s", "", n) for n in re.findall(r"\d[\d ]{1,10}\d", text)}
    assert numbers and numbers <= registry.load().numbers()
