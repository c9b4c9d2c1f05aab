"""Actions that read the helpline registry; all text comes from content data (data/content/
blocks.yml, domain/responses/). They run in the action server on rasa_sdk alone (no Rasa core), and
send responses by name, so that the NLG in Rasa (bot/nlg.py) renders them like every other reply:
registry numbers, the VO-linjen offer and, after a crisis, the emergency line and button."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot import registry
from bot.content import blocks

# The response action_helpline_status sends (domain/responses/hours.yml); it fills `{status}`.
STATUS_RESPONSE = "utter_open_now"


def status_lines(now: datetime | None = None) -> list[str]:
    """One line per helpline and chat in `status.lines`: open now, closed, or hours unknown."""
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
    return [reg.render(line) for line in lines]


class ActionHelplineStatus(Action):
    """Says which helplines and chats are open right now, where hours are known."""

    def name(self) -> str:
        return "action_helpline_status"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response=STATUS_RESPONSE, status="\n".join(status_lines()))
        return []
