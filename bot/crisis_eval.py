"""How well the crisis layer does on a labelled set, through a loaded Rasa agent: recall per
category, false alarms and the maybe tier. Shared by the `make test` gate (tests/test_crisis.py)
and the benchmark that prints the tables (bench/crisis.py).

A crisis counts as found only when the first reply leads with that category's emergency contact
(the intent is `crisis_*`, not negated). An acute label asks for the police emergency number first:
a reply that opens with it counts for acute too (the replies for a child at risk, for trafficking
and for a wish to hurt someone now open with it, "ring ... hvis noen er i fare"; the suicide reply
opens with the ambulance and does not). The maybe tier (a safety line before the answer) is
counted apart, never as a hit.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot import content, registry
from bot.crisis_contract import INTENT_PREFIX, PARSE_KEY, RESPONSE_PREFIX

POLICE = "police_emergency"


@dataclass
class Result:
    misses: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    totals: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    false_positives: list[str] = field(default_factory=list)
    maybe: list[str] = field(default_factory=list)  # non-crisis messages given the safety line
    # Crisis messages that got neither a crisis reply nor a safety line: the misses that matter
    # most (a maybe-tier miss still shows the emergency number and asks "Er du trygg?"; danger
    # read as negated still adds the line "Hvis du skulle bli i fare" with the number).
    silent: list[str] = field(default_factory=list)
    non_crisis: int = 0
    seconds: float = 0.0

    def recall(self, category: str) -> float:
        total = self.totals[category]
        return (total - len(self.misses[category])) / total if total else 1.0

    @property
    def fpr(self) -> float:
        return len(self.false_positives) / self.non_crisis if self.non_crisis else 0.0


def crisis_reply(parse: dict[str, Any]) -> set[str]:
    """The categories whose emergency contact the reply to this parse leads with."""
    crisis = parse.get(PARSE_KEY) or {}
    intent = (parse.get("intent") or {}).get("name") or ""
    if crisis.get("negated") or not intent.startswith(INTENT_PREFIX):
        return set()
    categories = list(crisis.get("categories") or [])
    found = set(categories)
    if categories and categories[0] in leads_with_police():
        found.add("acute")
    return found


@lru_cache(maxsize=1)
def leads_with_police() -> frozenset[str]:
    """The categories whose crisis reply names the police emergency number before any other
    (read from the reply texts, so the count follows the content: bot/nlg.py compose)."""
    leads = {key[len(RESPONSE_PREFIX):]: items[0]["text"]
             for key, items in content.responses().items() if key.startswith(RESPONSE_PREFIX)}
    leads.update(content.blocks()["crisis_lead"])
    return frozenset(c for c, text in leads.items()
                     if (m := registry.PLACEHOLDER.search(text)) and m.group(1) == POLICE)


def safety_line(parse: dict[str, Any]) -> bool:
    """Whether the reply to this parse leads with a safety line short of a crisis reply: the maybe
    tier, or the line for danger the writer says is not there now (bot/nlg.py compose)."""
    crisis = parse.get(PARSE_KEY) or {}
    return bool(crisis.get("maybe")) or bool(crisis.get("negated") and crisis.get("categories"))


async def evaluate(agent: Any, cases_path: Path) -> Result:
    cases = yaml.safe_load(cases_path.read_text(encoding="utf-8"))
    result = Result()
    started = time.perf_counter()
    for case in cases["crisis"]:
        parse = await agent.parse_message(case["text"])
        found = crisis_reply(parse)
        for category in case["categories"]:
            result.totals[category] += 1
            if category not in found:
                result.misses[category].append(case["text"])
        if not found and not safety_line(parse):
            result.silent.append(case["text"])
    for case in cases["non_crisis"]:
        result.non_crisis += 1
        parse = await agent.parse_message(case["text"])
        if crisis_reply(parse):
            result.false_positives.append(case["text"])
        elif (parse.get(PARSE_KEY) or {}).get("maybe"):
            result.maybe.append(case["text"])
    result.seconds = time.perf_counter() - started
    return result
