"""Intent understanding through the real trained model (DIET, the n-gram ensemble, the fallback
and the crisis layer): top-intent accuracy, macro F1, how often the first reply answers, the
fallbacks, and the most common confusions, per labelled set.

    python -m bench.nlu [--model PATH] [--set FILE ...]

Without --set it runs the gates (tests/nlu/heldout*.yml) and the development sets. How a message
counts is in bot/nlu_eval.py.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from bench.common import quiet_rasa
from bot.nlu_eval import NluResult, evaluate

ROOT = Path(__file__).resolve().parent.parent
SETS = ("heldout.yml", "heldout_c.yml", "heldout_d.yml", "heldout_e.yml", "heldout_f.yml",
        "heldout_g.yml", "heldout_p.yml", "dev_b.yml", "dev.yml")


def report(name: str, r: NluResult, misses: bool) -> None:
    n = len(r.gold)
    print(f"\n## {name} ({n} messages)")
    print(f"top intent accuracy {r.accuracy:.3f}   macro F1 {r.macro_f1:.3f}   "
          f"answered {r.answer_rate:.3f}   fallback {r.fallback} "
          f"(right topic among 'Mente du' buttons: {r.guessed})")
    for (gold, top), k in r.confusions().most_common(12):
        print(f"  {k:3d}  {gold} -> {top}")
    if misses:
        for text, gold, top, ok in zip(r.texts, r.gold, r.top, r.answered, strict=True):
            if not ok:
                print(f"NOT ANSWERED {gold} (top {top}): {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--set", action="append", type=Path, dest="sets")
    parser.add_argument("--misses", action="store_true", help="list every message not answered")
    args = parser.parse_args()
    sets = args.sets or [ROOT / "tests" / "nlu" / s for s in SETS]
    from rasa.core.agent import load_agent

    from bot.train import model_path

    quiet_rasa()
    agent = asyncio.run(load_agent(model_path=str(args.model or model_path())))
    for path in sets:
        report(path.name, asyncio.run(evaluate(agent, path)), args.misses)


if __name__ == "__main__":
    main()
