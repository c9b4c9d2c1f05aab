"""The intent ensemble's settings swept on xSID-nb without retraining DIET per variant.

DIET is trained once per fold (our config.yml, with the n-gram model's weight 0 and no fallback,
so the ranking is DIET's alone); its full ranking for the held-out fold and the fold's dialect
renderings is kept. The n-gram model (`bot.ngram_intent.NgramModel`'s features, refitted with
scikit-learn per variant) is then blended with it by weight, arithmetically or geometrically,
with and without the fallback threshold. Folds and data as `bench.xsid`.

    PYTHONPATH=. python -m bench.xsid_sweep [--folds 5] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import warnings
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import hstack
from sklearn.linear_model import LogisticRegression

from bench.common import ROOT, quiet_rasa
from bench.xsid import DATA, Example, RasaNLU, from_rasa, our_config, quiet, read_conll
from bot import ngrams
from bot.crisis_model import prepare

# (C, char min_df, char n-gram range, word n-grams over lemmas / forms / none)
VARIANTS = [(20.0, 2, (2, 5), "lemma"), (20.0, 1, (2, 5), "lemma"), (10.0, 1, (1, 5), "lemma"),
            (50.0, 1, (2, 5), "lemma"), (20.0, 1, (2, 6), "lemma"), (20.0, 1, (2, 5), "form"),
            (20.0, 1, (2, 5), None)]
BLENDS = [(1.0, "arith"), (0.5, "arith"), (0.6, "arith"), (0.7, "arith"), (0.8, "arith"),
          (0.5, "geo"), (0.7, "geo")]


def diet_rankings(train: list[Example], texts: list[str]) -> list[dict[str, float]]:
    config = our_config()
    for step in config["pipeline"]:
        if step["name"].endswith("NgramIntentClassifier"):
            step.update(weight=0.0, ranking_length=1000)
    config["pipeline"] = [s for s in config["pipeline"] if s["name"] != "FallbackClassifier"]
    diet = RasaNLU("DIET alone", config)

    async def parse() -> list[dict[str, float]]:
        return [{from_rasa(r["name"]): r["confidence"]
                 for r in (await diet.agent.parse_message(t)).get("intent_ranking") or []}
                for t in texts]

    with tempfile.TemporaryDirectory(prefix="vonr-xsid-sweep-") as tmp:
        diet.fit(train, Path(tmp))
        with quiet():
            return asyncio.run(parse())


def ngram_probabilities(train: list[Example], texts: list[str], lemma: Any, c: float,
                        min_df: int, chars: tuple[int, int], words: str | None
                        ) -> tuple[list[str], np.ndarray]:
    def inputs(items: Sequence[str]) -> list[Any]:
        forms = [prepare(t) for t in items]
        return [forms, [prepare(lemma(t)) for t in items] if words == "lemma" else forms]

    vectorizers = [ngrams.vectorizer("char_wb", chars, min_df)]
    if words:
        vectorizers.append(ngrams.vectorizer("word", (1, 2)))
    fit_in = inputs([e.text for e in train])
    x = hstack([v.fit_transform(fit_in[i]) for i, v in enumerate(vectorizers)]).tocsr()
    clf = LogisticRegression(C=c, max_iter=3000, random_state=1).fit(x, [e.intent for e in train])
    test_in = inputs(texts)
    probs = clf.predict_proba(hstack([v.transform(test_in[i])
                                      for i, v in enumerate(vectorizers)]).tocsr())
    return [str(n) for n in clf.classes_], probs


def blend(classes: list[str], probs: np.ndarray, diet: list[dict[str, float]], weight: float,
          mode: str) -> list[tuple[str, float]]:
    out = []
    for row, d in zip(probs, diet, strict=True):
        own = dict(zip(classes, row.tolist(), strict=True))
        names = own.keys() | d.keys()
        if mode == "arith":
            b = {n: weight * own.get(n, 0.0) + (1 - weight) * d.get(n, 0.0) for n in names}
        else:
            b = {n: float(np.exp(weight * np.log(own.get(n, 0.0) + 1e-9)
                                 + (1 - weight) * np.log(d.get(n, 0.0) + 1e-9))) for n in names}
            total = sum(b.values())
            b = {n: v / total for n, v in b.items()}
        best = max(b, key=lambda n: b[n])
        out.append((best, b[best]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threshold", type=float, default=0.25, help="the fallback threshold")
    args = parser.parse_args()
    os.chdir(ROOT)
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ["RASA_MAX_CACHE_SIZE"] = "0"
    quiet_rasa()
    import spacy
    from sklearn.model_selection import StratifiedKFold

    from bot.nlp import PIPELINE_DIR

    nlp = spacy.load(PIPELINE_DIR)

    def lemma(text: str) -> str:
        return " ".join(t.lemma_ or t.text for t in nlp(text))

    examples = read_conll(DATA)
    bokmal = [e for e in examples if e.dialect == "B"]
    by_sid: dict[str, list[Example]] = defaultdict(list)
    for e in examples:
        if e.dialect != "B":
            by_sid[e.sid].append(e)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        splits = list(StratifiedKFold(args.folds, shuffle=True, random_state=args.seed)
                      .split(bokmal, [e.intent for e in bokmal]))
    folds = []
    for k, (train_idx, test_idx) in enumerate(splits):
        train = [bokmal[i] for i in train_idx]
        held = [bokmal[i] for i in test_idx]
        unseen = [d for e in held for d in by_sid.get(e.sid, [])]
        scored = held + unseen
        folds.append((train, held, scored, diet_rankings(train, [e.text for e in scored])))
        print(f"xsid_sweep: DIET fold {k + 1}/{args.folds} done", flush=True)

    print(f"\n| C, char min_df, char range, words | blend | Bokmål {args.folds}-fold "
          f"(fallback {args.threshold}) | no fallback | unseen dialect |")
    print("| --- | --- | --- | --- | --- |")
    for variant in VARIANTS:
        fitted = [ngram_probabilities(train, [e.text for e in scored], lemma, *variant)
                  for train, _, scored, _ in folds]
        for weight, mode in BLENDS:
            acc_t, acc_0, unseen_ok = [], [], []
            for (_, held, scored, diet), (classes, probs) in zip(folds, fitted, strict=True):
                preds = blend(classes, probs, diet, weight, mode)
                gold = [e.intent for e in scored]
                n = len(held)
                acc_t.append(np.mean([p == g and c >= args.threshold
                                      for (p, c), g in zip(preds[:n], gold[:n], strict=True)]))
                acc_0.append(np.mean([p == g for (p, _), g in zip(preds[:n], gold[:n],
                                                                   strict=True)]))
                unseen_ok += [p == g and c >= args.threshold
                              for (p, c), g in zip(preds[n:], gold[n:], strict=True)]
            print(f"| {variant} | {mode} {weight} | {100 * np.mean(acc_t):.1f} | "
                  f"{100 * np.mean(acc_0):.1f} | {100 * np.mean(unseen_ok):.1f} |", flush=True)


if __name__ == "__main__":
    main()
