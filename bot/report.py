"""Summarises `rasa test nlu` results: macro F1, accuracy and the most common confusions. Exits
non-zero below the floors, so `make test` fails on an NLU regression."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

# Floors on tests/nlu/heldout.yml (701 messages by separate authors, 2026-12-03): just under what
# the model reaches (macro F1 0.915, accuracy 0.889), so a regression fails. Issue 15's goal is
# 0.95 for both; docs/performance.md has the measurements.
TARGET_MACRO_F1 = 0.90
TARGET_ACCURACY = 0.87


def main(results: Path) -> int:
    report = json.loads((results / "intent_report.json").read_text())
    macro = report["macro avg"]["f1-score"]
    errors = json.loads((results / "intent_errors.json").read_text())
    confusions = Counter(
        (e["intent"], e["intent_prediction"]["name"]) for e in errors
    )
    accuracy = report["accuracy"]
    print(f"held-out NLU: macro F1 {macro:.3f} (floor {TARGET_MACRO_F1}), accuracy "
          f"{accuracy:.3f} (floor {TARGET_ACCURACY}), {report['macro avg']['support']} examples")
    for (gold, pred), n in confusions.most_common(15):
        print(f"  {n:3d}  {gold} -> {pred}")
    return 0 if macro >= TARGET_MACRO_F1 and accuracy >= TARGET_ACCURACY else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "results/nlu")))
