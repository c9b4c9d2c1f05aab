"""Actions that read the helpline registry; all text comes from data/content/blocks.yml. They run
in the action server on rasa_sdk alone (no Rasa core)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot import content, registry
from bot.content import blocks


def had_crisis(events: Iterable[dict[str, Any]]) -> bool:
    """A real (not negated) crisis in this conversation: the same test as bot.nlg.had_crisis,
    on the event dicts the action server receives."""
    for event in events:
        if event.get("event") == "user":
            crisis = (event.get("parse_data") or {}).get("crisis") or {}
            if crisis.get("categories") and not crisis.get("negated"):
                return True
    return False


def status_lines(now: datetime | None = None, crisis_before: bool = False) -> list[str]:
    """One line per helpline and chat in `status.lines`: open now, closed, or hours unknown;
    then the VO-linjen offer, and the emergency line after a crisis (as the NLG adds them to
    informational answers, which this reply does not pass through)."""
    reg, t = registry.load(), blocks()["status"]
    lines = [t["intro"]]
    for rid in t["lines"]:
        res = reg[rid]
        fields = {"name": res.name, "id": rid, "web": res.web, "hours": res.hours_text or ""}
        state = {True: "open", False: "closed", None: "unknown"}[res.is_open(now)]
        lines.append(t[state].format(**fields))
        if res.chat:
            chat_fields = {**fields, "web": res.chat.get("web") or res.web,
                           "hours": res.chat.get("hours_text") or ""}
            state = {True: "chat_open", False: "chat_closed", None: "chat_unknown"}[
                res.is_open(now, chat=True)
            ]
            lines.append(t[state].format(**chat_fields))
    lines.append(blocks()["footer_vo_linjen"])
    if crisis_before:
        lines.append(blocks()["footer_emergency"])
    return [reg.render(line) for line in lines]


def status_buttons(crisis_before: bool = False) -> list[dict[str, str]]:
    """A call button for VO-linjen, and for the emergency number after a crisis."""
    ids = ["vo_linjen", "police_emergency"] if crisis_before else ["vo_linjen"]
    return content.call_buttons(*ids)


class ActionHelplineStatus(Action):
    """Says which helplines and chats are open right now, where hours are known."""

    def name(self) -> str:
        return "action_helpline_status"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        crisis = had_crisis(tracker.events)
        dispatcher.utter_message(
            text="\n".join(status_lines(crisis_before=crisis)), buttons=status_buttons(crisis)
        )
        return []
