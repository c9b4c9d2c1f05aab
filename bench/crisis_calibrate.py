"""Calibrate the crisis classifier's thresholds on the development sets, without training Rasa.

Fits `bot.crisis_model.CrisisModel` exactly as training does (corpus + NLU examples), joins it
with the rule layer (lemmas from our spaCy pipeline) through `decide`, and prints, per category,
the highest `high` threshold that keeps 100 % recall on the development sets, then a table per
set for the thresholds given (default: those in config.yml).

    python -m bench.crisis_calibrate [--set FILE ...] [--high acute=0.5 ...] [--maybe 0.3]

Only development sets may be passed to the sweep: a set used here is a development set from then
on (say so in its header). By default the sets the classifier trains on (`TRAINED_SETS`) are left
out: on them it scores its own training lines.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

from bot import crisis, crisis_model, crisis_verdict
from bot.crisis_contract import CATEGORIES, TRAINED_SETS
from bot.nlp import PIPELINE_DIR

ROOT = Path(__file__).resolve().parent.parent
DEV_SETS = ("dev_cases.yml", "cases.yml", "cases_b.yml", "cases_e.yml", "cases_f.yml",
            "cases_h.yml", "cases_i.yml", "cases_j.yml", "cases_k.yml", "cases_l.yml",
            "cases_m.yml", "cases_n.yml", "cases_o.yml", "cases_p.yml", "cases_q.yml",
            "cases_r.yml", "cases_s.yml", "cases_t.yml", "cases_u.yml")


def configured() -> dict[str, Any]:
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    for step in config["pipeline"]:
        if step["name"].endswith("CrisisDetector"):
            return step
    raise SystemExit("config.yml has no CrisisDetector")


def lemmatiser() -> Any:
    import spacy

    nlp = spacy.load(PIPELINE_DIR)
    return lambda text: [(t.lemma_ or t.text).lower() for t in nlp(text.lower())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", action="append", type=Path, dest="sets")
    parser.add_argument("--high", nargs="*", default=[])
    parser.add_argument("--maybe", type=float)
    parser.add_argument("--c", type=float, default=4.0)
    args = parser.parse_args()
    step = configured()
    high = dict(step.get("high") or {})
    high.update({k: float(v) for k, v in (h.split("=") for h in args.high)})
    maybe = args.maybe if args.maybe is not None else float(step.get("maybe", 0.3))
    confirm = float(step.get("confirm", 0.0))
    sure = float(step.get("sure", 1.01))
    min_words = int(step.get("min_words", 4))
    sets = args.sets or [ROOT / "tests" / "crisis" / n for n in DEV_SETS
                         if (ROOT / "tests" / "crisis" / n).exists() and n not in TRAINED_SETS]

    from rasa.shared.nlu.training_data.loading import load_data

    nlu = load_data(str(ROOT / "data" / "nlu"))
    examples = crisis_model.training_examples(
        (m.get("text") or "", m.get("intent") or "") for m in nlu.intent_examples)
    model = crisis_model.CrisisModel.fit(examples, CATEGORIES, c=args.c)
    lemmas = lemmatiser()
    rows: list[tuple[str, crisis_model.Example, crisis.Crisis, dict[str, float]]] = []
    for path in sets:
        cases = crisis_model.read_cases(path)
        scores = model.scores_many([c.text for c in cases], min_words)
        for case, score in zip(cases, scores, strict=True):
            rows.append((path.name, case, crisis.detect(case.text, lemmas(case.text)), score))

    print(f"{len(examples)} training examples; sets: {', '.join(p.name for p in sets)}")
    print("threshold keeping 100 % recall on these sets (categories the rules missed):")
    for category in CATEGORIES:
        needed = [s[category] for _, case, found, s in rows
                  if category in case.categories and category not in found.categories]
        print(f"  {category:<12} {min(needed) if needed else 1.0:.3f}  ({len(needed)} cases)")

    for name in dict.fromkeys(n for n, *_ in rows):
        verdicts = [(case, crisis_verdict.decide(found, s, high, maybe, confirm, sure))
                    for n, case, found, s in rows if n == name]
        print(f"\n{name}  high={high} maybe={maybe} confirm={confirm} sure={sure}")
        for category in CATEGORIES:
            total = [v for c, v in verdicts if category in c.categories]
            hit = [v for c, v in verdicts if category in c.categories
                   and category in v.categories and not v.negated]
            if total:
                print(f"  {category:<12} {len(total):>4}  recall {len(hit) / len(total):6.1%}")
        negatives = [(c, v) for c, v in verdicts if not c.categories]
        alarms = [c.text for c, v in negatives if v.categories and not v.negated]
        unsure = [c.text for c, v in negatives if v.maybe and not (v.categories and not v.negated)]
        n = len(negatives)
        print(f"  non-crisis   {n:>4}  false alarms {len(alarms) / n:5.1%}"
              f"  maybe {len(unsure) / n:5.1%}")
        for case, v in verdicts:
            missing = set(case.categories) - (set() if v.negated else set(v.categories))
            if missing:
                print(f"  MISS {sorted(missing)} maybe={list(v.maybe)}: {case.text}")
        for text in alarms:
            print(f"  FALSE ALARM: {text}")


if __name__ == "__main__":
    main()
