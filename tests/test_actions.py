"""Custom actions, run through rasa_sdk's own executor types."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import ActionHelplineStatus, had_crisis, status_lines
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


def run_status(events: list[dict]) -> dict:
    dispatcher = CollectingDispatcher()
    tracker = Tracker("t", {}, {}, events, False, None, {}, "action_listen")
    assert ActionHelplineStatus().run(dispatcher, tracker, {}) == []
    assert len(dispatcher.messages) == 1
    return dispatcher.messages[0]


def user(crisis: dict | None = None) -> dict:
    return {"event": "user", "text": "x", "parse_data": {"crisis": crisis or {}}}


def test_action_utters_one_message_with_registry_numbers_only() -> None:
    text = run_status([])["text"]
    numbers = {re.sub(r"\s", "", n) for n in re.findall(r"\d[\d ]{1,10}\d", text)}
    assert numbers and numbers <= registry.load().numbers()


def test_status_on_christmas_day() -> None:
    lines = "\n".join(status_lines(datetime(2026, 12, 25, 12, 0, tzinfo=OSLO)))  # a Friday
    assert re.search(r"Kompetanseteamet.*: stengt nå", lines)
    assert "VO-linjen (Vold- og overgrepslinjen), 116 006: åpen nå" in lines


def test_status_offers_vo_linjen_and_after_a_crisis_the_emergency_number() -> None:
    """The status reply comes from the action server, past the NLG that adds the VO-linjen offer
    and the emergency button to answers: it adds them itself."""
    calm = run_status([user(), user({"categories": ["acute"], "negated": True})])
    assert "Ring VO-linjen på 116 006" in calm["text"] and "Ved akutt fare" not in calm["text"]
    assert calm["buttons"] == [{"title": "Ring VO-linjen 116 006", "payload": "tel:116006"}]
    after = run_status([user({"categories": ["acute"]}), user()])
    assert "Ring VO-linjen på 116 006" in after["text"]
    assert after["text"].endswith("Ved akutt fare: ring 112.")
    assert [b["payload"] for b in after["buttons"]] == ["tel:116006", "tel:112"]


def test_had_crisis_matches_the_nlg() -> None:
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot import nlg

    cases = [[], [user()], [user({"categories": ["suicide"]})], [user({"maybe": ["acute"]})],
             [user({"categories": ["acute"], "negated": True})]]
    for events in cases:
        tracker = DialogueStateTracker.from_events("t", [
            UserUttered(e["text"], parse_data=e["parse_data"]) for e in events])
        assert had_crisis(events) == nlg.had_crisis(tracker), events


def test_the_action_server_runs_on_rasa_sdk_alone() -> None:
    """The actions read content through bot.content, never through Rasa: a fresh interpreter, as
    the action server starts, loads no module of Rasa itself (rasa_sdk brings sanic)."""
    code = ("import sys\nimport actions.actions as a\na.status_lines(); a.status_buttons(True)\n"
            "print(sorted(m for m in sys.modules if m == 'rasa' or m.startswith('rasa.')))\n")
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                         check=True, env={"PYTHONPATH": str(root), "PATH": ""})
    assert out.stdout.strip() == "[]", out.stdout
