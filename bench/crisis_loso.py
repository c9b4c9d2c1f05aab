"""Leave one set out: does training the crisis classifier on other authors' analysed sets help on
a set by an author it has not seen? Fits `bot.crisis_model.CrisisModel` as training does (corpus,
`TRAINED_SETS` and the NLU examples), without Rasa, and prints per set left out the recall per
category and the false alarms, of the classifier alone at its `high` thresholds and joined with
the rules (`decide`), for the model without the other sets and with them.

    python -m bench.crisis_loso [--sets o,p,q,r,s,t,v,w] [--c 4.0]

Pass only development sets: every set named is read. Sets already in `TRAINED_SETS` are left out
of the base training here, so each set is judged as if it were new.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.crisis_calibrate import configured, lemmatiser
from bot import crisis, crisis_model, crisis_verdict
from bot.crisis_contract import CATEGORIES, EVALUATED

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="o,p,q,r,s,t,v,w")
    parser.add_argument("--c", type=float, default=4.0)
    args = parser.parse_args()
    names = [f"cases_{n}.yml" for n in args.sets.split(",")]
    step = configured()
    high = dict(step["high"])
    decide_args = (high, float(step["maybe"]), float(step.get("confirm", 0.0)),
                   float(step.get("sure", 1.01)))
    min_words = int(step.get("min_words", 4))

    from rasa.shared.nlu.training_data.loading import load_data

    nlu = load_data(str(ROOT / "data" / "nlu"))
    intents = [(m.get("text") or "", m.get("intent") or "") for m in nlu.intent_examples]
    pool = {name: crisis_model.read_cases(ROOT / "tests" / "crisis" / name) for name in names}
    pooled = {crisis_model.prepare(e.text) for cases in pool.values() for e in cases}
    base = [e for e in crisis_model.training_examples(intents)
            if crisis_model.prepare(e.text) not in pooled]
    lemmas = lemmatiser()
    found = {n: [crisis.detect(c.text, lemmas(c.text)) for c in cases] for n, cases in pool.items()}

    def row(model: crisis_model.CrisisModel, name: str) -> str:
        cases = pool[name]
        scores = model.scores_many([c.text for c in cases], min_words)
        verdicts = [crisis_verdict.decide(f, s, *decide_args)
                    for f, s in zip(found[name], scores, strict=True)]
        cells = []
        for category in EVALUATED:
            idx = [i for i, c in enumerate(cases) if category in c.categories]
            alone = sum(scores[i][category] >= high[category] for i in idx) / len(idx)
            joined = sum(category in verdicts[i].categories and not verdicts[i].negated
                         for i in idx) / len(idx)
            cells.append(f"{category[:5]} {alone:6.1%} {joined:6.1%}")
        calm = [i for i, c in enumerate(cases) if not c.categories]
        alone = sum(any(scores[i][c] >= high[c] for c in EVALUATED) for i in calm) / len(calm)
        joined = sum(bool(verdicts[i].categories) and not verdicts[i].negated
                     for i in calm) / len(calm)
        return "  ".join(cells) + f"  false alarms {alone:5.1%} {joined:5.1%}"

    print("per cell: the classifier alone, then joined with the rules")
    without = crisis_model.CrisisModel.fit(base, CATEGORIES, c=args.c)
    for name in names:
        others = [e for n in names if n != name for e in pool[n]]
        with_others = crisis_model.CrisisModel.fit(base + others, CATEGORIES, c=args.c)
        print(f"{name:12} base    {row(without, name)}")
        print(f"{'':12} +others {row(with_others, name)}", flush=True)


if __name__ == "__main__":
    main()
