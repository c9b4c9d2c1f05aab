"""Response rendering inside Rasa: fills registry placeholders, appends the VO-linjen offer to
informational answers, and composes crisis replies from the crisis flags of the latest message.

Configured in endpoints.yml as ``nlg: type: bot.nlg.RegistryNLG``; it runs in the Rasa process, so
crisis replies and helpline numbers do not depend on the action server.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot import registry, speedups

speedups.install_event_lookup()

BLOCKS_PATH = Path(__file__).resolve().parent.parent / "data" / "content" / "blocks.yml"
INFO_PREFIXES = ("utter_info_", "utter_more_", "utter_help")
CRISIS_PREFIX = "utter_crisis_"


@lru_cache(maxsize=1)
def blocks() -> dict[str, Any]:
    return yaml.safe_load(BLOCKS_PATH.read_text(encoding="utf-8"))


def crisis_of(event: UserUttered | None) -> dict[str, Any]:
    if event is None:
        return {}
    return event.parse_data.get("crisis") or {}


def had_crisis(tracker: DialogueStateTracker) -> bool:
    """A real (not negated) crisis earlier in this conversation."""
    for event in tracker.events:
        if isinstance(event, UserUttered):
            crisis = crisis_of(event)
            if crisis.get("categories") and not crisis.get("negated"):
                return True
    return False


def compose(name: str, text: str, crisis: dict[str, Any], crisis_before: bool) -> tuple[str, bool]:
    """The final text of response `name`, and whether to add the emergency button."""
    b = blocks()
    english = crisis.get("lang") == "en"
    categories = list(crisis.get("categories") or [])
    parts = [text]
    if name.startswith(CRISIS_PREFIX) and categories:
        primary = name[len(CRISIS_PREFIX) :]
        if english and primary in b["crisis_en"]:
            parts = [b["crisis_en"][primary]]
        lines = b["crisis_line_en" if english else "crisis_line"]
        parts += [lines[c] for c in categories if c != primary and c in lines]
    elif name == "utter_check_safe" and english:
        parts = [b["crisis_en"]["check_safe"]]
    elif crisis.get("negated") and categories:
        # Lowered urgency, never hidden numbers.
        parts.append(b["crisis_line"]["negated"])
    if name.startswith(INFO_PREFIXES):
        parts.append(b["footer_vo_linjen"])
        if crisis_before:
            parts.append(b["footer_emergency"])
    return "\n\n".join(parts), crisis_before or bool(categories and not crisis.get("negated"))


class RegistryNLG(TemplatedNaturalLanguageGenerator):
    """Domain responses, rendered through the helpline registry."""

    def __init__(
        self, endpoint_config: EndpointConfig | None = None, domain: Domain | None = None
    ) -> None:
        super().__init__((domain or Domain.empty()).responses)
        self.registry = registry.load()

    async def generate(
        self,
        utter_action: str,
        tracker: DialogueStateTracker,
        output_channel: str,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        response = await super().generate(utter_action, tracker, output_channel, **kwargs)
        if response is None:
            return None
        crisis = crisis_of(tracker.latest_message)
        text, emergency_button = compose(
            utter_action, response.get("text") or "", crisis, had_crisis(tracker)
        )
        return self.render(response, text, emergency_button)

    def _fill_response(
        self, response: dict[str, Any], filled_slots: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Rasa fills `{slot}` templates in texts and buttons alike. A button payload's JSON
        (`/inform_audience{"audience":"self"}`) is no template: Rasa logged an error with a
        traceback for every such button of every answer. Buttons stay as written."""
        buttons = response.pop("buttons", None)
        response = super()._fill_response(response, filled_slots, **kwargs)
        if buttons is not None:
            response["buttons"] = buttons
        return response

    def render(
        self, response: dict[str, Any], text: str, emergency_button: bool
    ) -> dict[str, Any]:
        render = self.registry.render
        out = dict(response)
        out["text"] = render(text)
        buttons = [
            {**btn, "title": render(btn["title"]), "payload": render(btn["payload"])}
            for btn in response.get("buttons") or []
        ]
        emergency = "tel:" + self.registry["police_emergency"].phone
        if emergency_button and all(btn["payload"] != emergency for btn in buttons):
            phone = self.registry["police_emergency"].phone_display
            buttons.append({"title": f"Ring {phone}", "payload": emergency})
        if buttons:
            out["buttons"] = buttons
        return out
