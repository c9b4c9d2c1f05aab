"""How well the crisis layer does on a labelled set, through a loaded Rasa agent: recall per
category, false alarms and the maybe tier. Shared by the `make test` gate (tests/test_crisis.py)
and the benchmark that prints the tables (bench/crisis.py).

A crisis counts as found only when the first reply leads with that category's emergency contact
(the intent is `crisis_*`, not negated); the maybe tier (a safety line before the answer) is counted
apart, never as a hit.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.crisis_contract import INTENT_PREFIX, PARSE_KEY


@dataclass
class Result:
    misses: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    totals: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    false_positives: list[str] = field(default_factory=list)
    maybe: list[str] = field(default_factory=list)  # non-crisis messages given the safety line
    # Crisis messages that got neither a crisis reply nor the maybe tier's safety line: the
    # misses that matter most (a maybe-tier miss still shows the emergency number and asks "Er du
    # trygg?").
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
    return set(crisis.get("categories") or [])


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
        if not found and not (parse.get(PARSE_KEY) or {}).get("maybe"):
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
