"""Response rendering inside Rasa: fills registry placeholders, appends the VO-linjen offer to
informational answers, and composes crisis replies from the crisis flags of the latest message
and what the conversation said before (an age under 18, exploitation described).

Configured in endpoints.yml as ``nlg: type: bot.nlg.RegistryNLG``; it runs in the Rasa process, so
crisis replies and helpline numbers do not depend on the action server.
"""

from __future__ import annotations

from typing import Any

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot import content, registry
from bot.content import blocks
from bot.crisis import adult_writer, young_writer
from bot.crisis_contract import PARSE_KEY, RESPONSE_PREFIX

INFO_PREFIXES = ("utter_info_", "utter_more_", "utter_help")
ANSWER_PREFIX = "utter_info_"
DEFAULT_RESPONSE = "utter_default"
FALLBACK_RESPONSES = (DEFAULT_RESPONSE, "utter_out_of_scope")
# Sent by action_helpline_status (actions/actions.py) with the lines it fills in as `{status}`.
STATUS_RESPONSE = "utter_open_now"
# A person one tap away: a VO-linjen call button under the fallbacks (not understood) and under
# the list of who answers now.
CALL_VO_LINJEN = (*FALLBACK_RESPONSES, STATUS_RESPONSE)
# "Mente du ...?" only when the two best topics are both plausible and share most of the
# probability; otherwise the general fallback with its topic buttons is the better answer.
GUESS_FLOOR = 0.15
GUESS_MASS = 0.4
# "Ja" / "Nei" right after the maybe tier asked "Er du trygg akkurat nå?" answer that question.
SAFETY_ANSWERS = {"utter_affirm": "utter_glad_safe", "utter_deny": "utter_not_safe"}


def crisis_of(event: UserUttered | None) -> dict[str, Any]:
    if event is None:
        return {}
    return event.parse_data.get(PARSE_KEY) or {}


def best_topics(event: UserUttered | None) -> list[str]:
    """The two topics the NLU ranked best for a message it was unsure of, when both are plausible
    (each at least `GUESS_FLOOR` and together most of the probability): "Mente du ...?"."""
    if event is None:
        return []
    topics = content.topics()
    ranked = [r for r in event.parse_data.get("intent_ranking") or []
              if r.get("name") in topics]
    if len(ranked) < 2 or ranked[1].get("confidence", 0.0) < GUESS_FLOOR:
        return []
    if ranked[0].get("confidence", 0.0) + ranked[1].get("confidence", 0.0) < GUESS_MASS:
        return []
    return [str(ranked[0]["name"]), str(ranked[1]["name"])]


def had_crisis(tracker: DialogueStateTracker) -> bool:
    """A real (not negated) crisis earlier in this conversation."""
    for event in tracker.events:
        if isinstance(event, UserUttered):
            crisis = crisis_of(event)
            if crisis.get("categories") and not crisis.get("negated"):
                return True
    return False


def said_young(tracker: DialogueStateTracker) -> bool:
    """An earlier message of this conversation said the writer is under 18, and no later one says
    they are an adult ("jeg er 14" first, "han slår meg nå" after)."""
    users = [e for e in tracker.events if isinstance(e, UserUttered)][:-1]
    for event in reversed(users):
        text = event.text or ""
        if young_writer(text):
            return True
        if adult_writer(text):
            return False
    return False


def was_exploited(tracker: DialogueStateTracker) -> bool:
    """An earlier message of this conversation got the trafficking line (not negated)."""
    users = [e for e in tracker.events if isinstance(e, UserUttered)][:-1]
    return any("trafficking" in (found.get("categories") or []) and not found.get("negated")
               for found in map(crisis_of, users))


def with_conversation(found: dict[str, Any], tracker: DialogueStateTracker) -> dict[str, Any]:
    """The latest message's crisis flags, with the lines the conversation calls for added to a
    crisis reply or the maybe tier: the child line when the writer said their age earlier, ROSA's
    when they described being exploited earlier ("he has my passport", then "I want to die").
    One message rarely carries the danger and the situation both."""
    key = "categories" if found.get("categories") else "maybe"
    flagged = list(found.get(key) or [])
    if not flagged or found.get("negated"):
        return found
    added = [c for c, earlier in (("child", said_young), ("trafficking", was_exploited))
             if c not in flagged and earlier(tracker)]
    return {**found, key: [*flagged, *added]} if added else found


def asked_if_safe(tracker: DialogueStateTracker) -> bool:
    """The previous reply was the maybe tier's, which asked "Er du trygg akkurat nå?"."""
    users = [e for e in reversed(tracker.events) if isinstance(e, UserUttered)]
    if len(users) < 2:
        return False
    before = crisis_of(users[1])
    return bool(before.get("maybe")) and not before.get("categories")


def is_answer(name: str) -> bool:
    """An answer: the info answers and the helpline status get the VO-linjen offer, and after a
    crisis the emergency line."""
    return name.startswith(INFO_PREFIXES) or name == STATUS_RESPONSE


def compose(
    name: str, text: str, crisis: dict[str, Any], crisis_before: bool, answer: str | None = None
) -> tuple[str, bool]:
    """The final text of response `name`, and whether to add the emergency button.

    `answer` is the text of the info answer to the question asked in the same message as a
    crisis: it follows the crisis reply.
    """
    b = blocks()
    english = crisis.get("lang") == "en"
    categories = list(crisis.get("categories") or [])
    maybe = list(crisis.get("maybe") or [])
    lines = b["crisis_line_en" if english else "crisis_line"]
    parts = [text]
    if name.startswith(RESPONSE_PREFIX) and categories:
        primary = name[len(RESPONSE_PREFIX) :]
        if categories[0] in b["crisis_lead"]:  # a category that shares another's path
            primary = categories[0]
            parts = [b["crisis_lead"][primary]]
        if english and primary in b["crisis_en"]:
            parts = [b["crisis_en"][primary]]
        parts += [lines[c] for c in categories if c != primary and c in lines]
        if answer and not english:  # the info answers are in Bokmål only
            parts.append(answer)
    elif name == "utter_check_safe" and english:
        parts = [b["crisis_en"]["check_safe"]]
    elif crisis.get("negated") and categories:
        # Lowered urgency, never hidden numbers.
        parts.append(lines["negated"])
    elif maybe and not categories and not name.startswith(RESPONSE_PREFIX):
        # The maybe tier: one safety line, the check-in question, then what we can answer
        # (never the generic "I did not understand" after a risk cue).
        maybe_block = b["maybe_en" if english else "maybe"]
        lead = " ".join([*(lines[c] for c in maybe if c in lines), maybe_block["ask"]])
        parts = [lead, maybe_block["fallback"] if name in FALLBACK_RESPONSES else text]
    if is_answer(name):
        parts.append(b["footer_vo_linjen"])
        if crisis_before:
            parts.append(b["footer_emergency"])
    emergency = crisis_before or bool(categories and not crisis.get("negated")) or bool(maybe)
    return "\n\n".join(parts), emergency


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
        if utter_action in SAFETY_ANSWERS and asked_if_safe(tracker):
            utter_action = SAFETY_ANSWERS[utter_action]
        response = await super().generate(utter_action, tracker, output_channel, **kwargs)
        if response is None:
            return None
        crisis = with_conversation(crisis_of(tracker.latest_message), tracker)
        if utter_action == DEFAULT_RESPONSE and not crisis:
            guesses = best_topics(tracker.latest_message)
            if guesses:
                response = {
                    **response, "text": blocks()["did_you_mean"],
                    "buttons": [content.topic_button(i) for i in guesses],
                }
        if utter_action in CALL_VO_LINJEN:
            vo_linjen = content.call_button("vo_linjen")
            response = {**response, "buttons": [*(response.get("buttons") or []), vo_linjen]}
        answer = None
        if utter_action.startswith(RESPONSE_PREFIX) and crisis.get("question"):
            answer = self._answer_text(str(crisis["question"]), tracker, output_channel)
        text, emergency_button = compose(
            utter_action, response.get("text") or "", crisis, had_crisis(tracker), answer
        )
        return self.render(response, text, emergency_button)

    def _answer_text(
        self, intent: str, tracker: DialogueStateTracker, output_channel: str
    ) -> str | None:
        """The text of the info answer for `intent`, if it has one."""
        name = ANSWER_PREFIX + intent
        if name not in self.responses:
            return None
        response = self.generate_from_slots(name, tracker.current_slot_values(), output_channel)
        return (response or {}).get("text")

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
        emergency = content.call_button("police_emergency")
        if emergency_button and all(btn["payload"] != emergency["payload"] for btn in buttons):
            buttons.append(emergency)
        if buttons:
            out["buttons"] = buttons
        return out
