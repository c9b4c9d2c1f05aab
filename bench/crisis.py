"""Crisis detection quality through the real trained model: per labelled set, recall per category,
the false-alarm rate, how often the maybe tier spoke, and the misses.

    python -m bench.crisis [--model PATH] [--cases FILE ...]

Without --cases every set in tests/crisis/ is run. A crisis counts as found only when the first
reply leads with that category's emergency contact (the intent is `crisis_*`, not negated); the
maybe tier (a safety line before the answer) is counted apart, never as a hit.
"""

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
CASES_DIR = ROOT / "tests" / "crisis"
CASES = CASES_DIR / "cases.yml"
# The categories the labelled sets use (harm_others has no labelled set yet).
CATEGORIES = ("acute", "suicide", "child", "trafficking")


@dataclass
class Result:
    misses: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    totals: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    false_positives: list[str] = field(default_factory=list)
    maybe: list[str] = field(default_factory=list)  # non-crisis messages given the safety line
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
        parse = await agent.parse_message(case["text"])
        if crisis_reply(parse):
            result.false_positives.append(case["text"])
        elif (parse.get("crisis") or {}).get("maybe"):
            result.maybe.append(case["text"])
    result.seconds = time.perf_counter() - started
    return result


def report(name: str, result: Result) -> None:
    print(f"\n## {name}")
    print(f"{'category':<12} {'cases':>6} {'recall':>8}")
    for category in CATEGORIES:
        print(f"{category:<12} {result.totals[category]:>6} {result.recall(category):>8.1%}")
    print(f"{'non-crisis':<12} {result.non_crisis:>6} {'false alarms':>13} {result.fpr:>5.1%}"
          f"   maybe tier {len(result.maybe) / max(result.non_crisis, 1):.1%}")
    n = sum(result.totals.values()) + result.non_crisis
    print(f"parse time: {1000 * result.seconds / n:.1f} ms per message over {n} messages")
    for category, texts in result.misses.items():
        for text in texts:
            print(f"MISS {category}: {text}")
    for text in result.false_positives:
        print(f"FALSE ALARM: {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--cases", type=Path, action="append")
    args = parser.parse_args()
    from rasa.core.agent import load_agent

    from bot.train import model_path

    agent = asyncio.run(load_agent(model_path=str(args.model or model_path())))
    for path in args.cases or sorted(CASES_DIR.glob("*.yml")):
        report(path.name, asyncio.run(evaluate(agent, path)))


if __name__ == "__main__":
    main()
