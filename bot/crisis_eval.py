"""How well the crisis layer does on a labelled set, through a loaded Rasa agent: recall per
category, false alarms and the maybe tier. Shared by the `make test` gate (tests/test_crisis.py)
and the benchmark that prints the tables (bench/crisis.py).

A crisis counts as found only when the first reply leads with that category's emergency contact
(the intent is `crisis_*`, not negated); the reply for a wish to hurt someone now takes the acute
reply's place ("gå unna", then the emergency number) and counts for an acute label. The maybe tier
(a safety line before the answer) is counted apart, never as a hit.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.crisis_contract import INTENT_PREFIX, PARSE_KEY
from bot.crisis_layer import INTENT_OF


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
    found = set(crisis.get("categories") or [])
    # A category without a dialogue path of its own leads the reply in another's place, with that
    # one's number: a wish to hurt someone now gets "gå unna" and the emergency number.
    return found | {INTENT_OF[c] for c in found if c in INTENT_OF}


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
