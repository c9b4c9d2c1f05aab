"""Summarises `rasa test nlu` results: macro F1 and the most common confusions. Exits non-zero
below the target F1, so `make test` fails on an NLU regression."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

TARGET_MACRO_F1 = 0.95


def main(results: Path) -> int:
    report = json.loads((results / "intent_report.json").read_text())
    macro = report["macro avg"]["f1-score"]
    errors = json.loads((results / "intent_errors.json").read_text())
    confusions = Counter(
        (e["intent"], e["intent_prediction"]["name"]) for e in errors
    )
    print(f"held-out NLU: macro F1 {macro:.3f} (target {TARGET_MACRO_F1}), "
          f"accuracy {report['accuracy']:.3f}, {report['macro avg']['support']} examples")
    for (gold, pred), n in confusions.most_common(15):
        print(f"  {n:3d}  {gold} -> {pred}")
    return 0 if macro >= TARGET_MACRO_F1 else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "results/nlu")))
