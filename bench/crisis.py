"""Crisis detection quality through the real trained model: recall and false-positive rate per
category on tests/crisis/cases.yml. `python -m bench.crisis [--model PATH]` prints a table."""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "crisis" / "cases.yml"
CATEGORIES = ("acute", "suicide", "child", "trafficking")


@dataclass
class Result:
    misses: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    totals: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    false_positives: list[str] = field(default_factory=list)
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
    crisis = parse.get("crisis") or {}
    intent = (parse.get("intent") or {}).get("name") or ""
    if crisis.get("negated") or not intent.startswith("crisis_"):
        return set()
    return set(crisis.get("categories") or [])


async def evaluate(agent: Any, cases_path: Path = CASES) -> Result:
    cases = yaml.safe_load(cases_path.read_text(encoding="utf-8"))
    result = Result()
    started = time.perf_counter()
    for case in cases["crisis"]:
        found = crisis_reply(await agent.parse_message(case["text"]))
        for category in case["categories"]:
            result.totals[category] += 1
            if category not in found:
                result.misses[category].append(case["text"])
    for case in cases["non_crisis"]:
        result.non_crisis += 1
        if crisis_reply(await agent.parse_message(case["text"])):
            result.false_positives.append(case["text"])
    result.seconds = time.perf_counter() - started
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--cases", type=Path, default=CASES)
    args = parser.parse_args()
    from rasa.core.agent import load_agent

    from bot.train import model_path

    agent = asyncio.run(load_agent(model_path=str(args.model or model_path())))
    result = asyncio.run(evaluate(agent, args.cases))
    print(f"{'category':<12} {'cases':>6} {'recall':>8}")
    for category in CATEGORIES:
        print(f"{category:<12} {result.totals[category]:>6} {result.recall(category):>8.1%}")
    print(f"{'non-crisis':<12} {result.non_crisis:>6} {'FPR':>4} {result.fpr:>5.1%}")
    n = sum(result.totals.values()) + result.non_crisis
    print(f"parse time: {1000 * result.seconds / n:.1f} ms per message over {n} messages")
    for category, texts in result.misses.items():
        for text in texts:
            print(f"MISS {category}: {text}")
    for text in result.false_positives:
        print(f"FALSE ALARM: {text}")


if __name__ == "__main__":
    main()
