"""Crisis detection quality through the real trained model: per labelled set, recall per category,
the false-alarm rate, how often the maybe tier spoke, and the misses.

    python -m bench.crisis [--model PATH] [--cases FILE] [--cases FILE ...]

Without --cases every set in tests/crisis/ is run except a held-out one (its header says HELD OUT:
it may be run once, by name, when a change is to be judged); how a case counts is in
bot/crisis_eval.py.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from bench.common import quiet_rasa
from bot.crisis_contract import EVALUATED
from bot.crisis_eval import Result, evaluate

ROOT = Path(__file__).resolve().parent.parent
CASES_DIR = ROOT / "tests" / "crisis"


def held_out(path: Path) -> bool:
    head = path.read_text(encoding="utf-8").split("\n", 8)[:8]
    return any(line.startswith("#") and "HELD OUT" in line for line in head)


def report(name: str, result: Result, lines: bool = True) -> None:
    print(f"\n## {name}")
    print(f"{'category':<12} {'cases':>6} {'recall':>8}")
    for category in EVALUATED:
        print(f"{category:<12} {result.totals[category]:>6} {result.recall(category):>8.1%}")
    print(f"{'non-crisis':<12} {result.non_crisis:>6} {'false alarms':>13} {result.fpr:>5.1%}"
          f"   maybe tier {len(result.maybe) / max(result.non_crisis, 1):.1%}")
    print(f"crisis messages with neither a crisis reply nor a safety line: {len(result.silent)}")
    n = sum(result.totals.values()) + result.non_crisis
    print(f"parse time: {1000 * result.seconds / n:.1f} ms per message over {n} messages")
    if not lines:
        return
    for category, texts in result.misses.items():
        for text in texts:
            print(f"MISS {category}: {text}")
    for text in result.false_positives:
        print(f"FALSE ALARM: {text}")
    for text in result.silent:
        print(f"SILENT: {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--cases", type=Path, action="append")
    args = parser.parse_args()
    from rasa.core.agent import load_agent

    from bot.train import model_path

    quiet_rasa()
    agent = asyncio.run(load_agent(model_path=str(args.model or model_path())))
    sets = args.cases or [p for p in sorted(CASES_DIR.glob("*.yml")) if not held_out(p)]
    for path in sets:
        report(path.name, asyncio.run(evaluate(agent, path)))


if __name__ == "__main__":
    main()
