"""NLU accuracy on xSID's Norwegian validation set (../shared/benchmarks/xsid-nb, CC BY-SA 4.0):
our config.yml NLU pipeline (CrisisDetector stripped: it overrides intents outside xSID's labels)
vs Rasa's default pipeline (what `rasa init` runs: its config leaves the pipeline to Rasa's
default) vs a character n-gram logistic regression (scikit-learn).

The file holds 300 sentences in Bokmål (`# dialect = B`) and ten dialect renderings of each (N, T,
V: written by annotators in their own dialects; the sentence number is the part of `# id` before
the slash). Scored:
  * k-fold cross-validation on the Bokmål sentences (accuracy, macro F1), and on the dialect
    renderings of the held-out fold's sentences ("unseen dialect": new sentence and new spelling);
  * trained on all Bokmål sentences: accuracy on every dialect sentence, per dialect (the
    sentences were seen in Bokmål; only the dialect is new);
  * `--test FILE`: the same all-Bokmål models on a held-out file in the same format.
A prediction of nlu_fallback (FallbackClassifier) counts as wrong; its rate is shown.

Run from the repository root (our pipeline loads build/spacy/nb_vonr-1 relative to it):
    PYTHONPATH=. python -m bench.xsid [--quick] [--folds 5] [--max-examples N] [--test FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import logging
import os
import random
import statistics
import sys
import tempfile
import time
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bench.common import ROOT, load, quiet_rasa, table
from bot.crisis_contract import FALLBACK_INTENT

DATA = ROOT.parent / "shared" / "benchmarks" / "xsid-nb" / "no.valid.conll"
DIALECTS = {"B": "Bokmål", "N": "Nordland/North", "T": "Trøndelag", "V": "Western"}
FALLBACK = FALLBACK_INTENT


@dataclass
class Example:
    sid: str  # sentence number: the same for a Bokmål sentence and its dialect renderings
    text: str
    intent: str
    dialect: str


def read_conll(path: Path) -> list[Example]:
    out: list[Example] = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        meta = {}
        for line in block.splitlines():
            if line.startswith("# ") and " = " in line:
                key, value = line[2:].split(" = ", 1)
                meta[key.strip()] = value.strip()
        if "text" in meta and "intent" in meta:
            sid = meta.get("id", str(len(out))).split("/")[0]
            out.append(Example(sid, meta["text"], meta["intent"], meta.get("dialect", "?")))
    return out


# Rasa reads "a/b" as a retrieval intent; keep xSID's labels apart from that syntax.
def to_rasa(intent: str) -> str:
    return intent.replace("/", "__")


def from_rasa(intent: str) -> str:
    return intent.replace("__", "/")


# ------------------------------------------------------------------------------------ pipelines


class Classifier:
    name = ""

    def fit(self, train: list[Example], workdir: Path) -> None:
        raise NotImplementedError

    def predict(self, texts: list[str]) -> list[str]:
        raise NotImplementedError


class CharNgramLR(Classifier):
    name = "char n-gram LR"

    def fit(self, train: list[Example], workdir: Path) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        self.model = make_pipeline(
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
            LogisticRegression(C=10, max_iter=5000),
        )
        self.model.fit([e.text for e in train], [e.intent for e in train])

    def predict(self, texts: list[str]) -> list[str]:
        return list(self.model.predict(texts))


class RasaNLU(Classifier):
    """An NLU-only Rasa model trained in-process with rasa.model_training.train_nlu."""

    def __init__(self, name: str, config: dict[str, Any]) -> None:
        self.name, self.config = name, config

    def fit(self, train: list[Example], workdir: Path) -> None:
        import json

        from rasa.core.agent import Agent
        from rasa.model_training import train_nlu

        workdir.mkdir(parents=True, exist_ok=True)
        config = workdir / "config.yml"
        config.write_text(yaml.safe_dump(self.config, allow_unicode=True), encoding="utf-8")
        # Rasa's JSON format: no Markdown-style entity syntax to trip over in the texts.
        data = workdir / "nlu.json"
        data.write_text(json.dumps({"rasa_nlu_data": {"common_examples": [
            {"text": e.text, "intent": to_rasa(e.intent), "entities": []} for e in train
        ]}}, ensure_ascii=False), encoding="utf-8")
        with quiet():
            model = train_nlu(str(config), str(data), str(workdir / "models"))
        if not model:
            raise RuntimeError(f"{self.name}: training failed")
        self.agent = Agent.load(model)

    def predict(self, texts: list[str]) -> list[str]:
        async def parse_all() -> list[str]:
            out = []
            for text in texts:
                parse = await self.agent.parse_message(text)
                out.append(from_rasa((parse.get("intent") or {}).get("name") or FALLBACK))
            return out

        with quiet():
            return asyncio.run(parse_all())


@contextlib.contextmanager
def quiet() -> Any:
    """Rasa's progress bars and warnings off for the benchmark's output."""
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()), \
            contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


def our_config() -> dict[str, Any]:
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    config["pipeline"] = [c for c in config["pipeline"]
                          if not c["name"].endswith("CrisisDetector")]
    config.pop("policies", None)
    return config


def default_config() -> dict[str, Any]:
    """Rasa's default pipeline: what a `rasa init` project runs (its config.yml leaves the
    pipeline commented out, so Rasa fills in this file)."""
    import rasa.engine.recipes

    path = Path(rasa.engine.recipes.__file__).parent / "config_files" / "default_config.yml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config.pop("policies", None)
    return config


# ------------------------------------------------------------------------------------ scoring


@dataclass
class Score:
    fold_acc: list[float] = field(default_factory=list)
    fold_f1: list[float] = field(default_factory=list)
    unseen: list[tuple[str, str, str]] = field(default_factory=list)  # (dialect, gold, pred)
    dialect: list[tuple[str, str, str]] = field(default_factory=list)
    test: list[tuple[str, str, str]] = field(default_factory=list)
    train_s: list[float] = field(default_factory=list)
    parse_ms: list[float] = field(default_factory=list)


def accuracy(pairs: list[tuple[str, str, str]], dialect: str | None = None) -> float:
    sel = [(g, p) for d, g, p in pairs if dialect is None or d == dialect]
    return sum(g == p for g, p in sel) / len(sel) if sel else float("nan")


def fallback_rate(pairs: list[tuple[str, str, str]]) -> float:
    return sum(p == FALLBACK for _, _, p in pairs) / len(pairs) if pairs else float("nan")


def run(clf: Classifier, bokmal: list[Example], dialects: list[Example], folds: int,
        test: list[Example], workdir: Path, seed: int) -> Score:
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    score = Score()
    labels = [e.intent for e in bokmal]
    by_sid: dict[str, list[Example]] = defaultdict(list)
    for e in dialects:
        by_sid[e.sid].append(e)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # classes with fewer members than folds
        splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(bokmal,
                                                                                    labels))

    def scored(model_dir: Path, train: list[Example], scored_sets: list[list[Example]]
               ) -> list[list[str]]:
        started = time.monotonic()
        clf.fit(train, model_dir)
        score.train_s.append(time.monotonic() - started)
        out = []
        for examples in scored_sets:
            if not examples:
                out.append([])
                continue
            started = time.perf_counter()
            out.append(clf.predict([e.text for e in examples]))
            score.parse_ms.append(1000 * (time.perf_counter() - started) / len(examples))
        return out

    for k, (train_idx, test_idx) in enumerate(splits):
        train = [bokmal[i] for i in train_idx]
        held = [bokmal[i] for i in test_idx]
        unseen = [d for e in held for d in by_sid.get(e.sid, [])]
        pred_held, pred_unseen = scored(workdir / f"fold{k}", train, [held, unseen])
        gold = [e.intent for e in held]
        right = sum(g == p for g, p in zip(gold, pred_held, strict=True))
        score.fold_acc.append(right / len(held))
        score.fold_f1.append(f1_score(gold, pred_held, average="macro", zero_division=0))
        score.unseen += [(e.dialect, e.intent, p) for e, p in zip(unseen, pred_unseen, strict=True)]
        print(f"xsid: {clf.name}: fold {k + 1}/{folds} acc {score.fold_acc[-1]:.3f} "
              f"(load {load()})", file=sys.stderr, flush=True)
    pred_dialect, pred_test = scored(workdir / "all", bokmal, [dialects, test])
    score.dialect = [(e.dialect, e.intent, p) for e, p in zip(dialects, pred_dialect, strict=True)]
    score.test = [(e.dialect, e.intent, p) for e, p in zip(test, pred_test, strict=True)]
    print(f"xsid: {clf.name}: all-Bokmål model, dialect acc {accuracy(score.dialect):.3f}",
          file=sys.stderr, flush=True)
    return score


def pct(x: float) -> str:
    return "-" if x != x else f"{100 * x:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--quick", action="store_true",
                        help="3 folds on 120 Bokmål sentences (unless --folds/--max-examples)")
    parser.add_argument("--max-examples", type=int,
                        help="at most this many Bokmål sentences (and their dialect renderings)")
    parser.add_argument("--test", type=Path, help="a held-out file in the same CoNLL format")
    parser.add_argument("--pipelines", default="ours,default,lr",
                        help="comma-separated subset of ours,default,lr")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.folds = args.folds if "--folds" in sys.argv else 3
        args.max_examples = args.max_examples or 120

    os.chdir(ROOT)  # config.yml names our spaCy pipeline relative to the repository root
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ["RASA_MAX_CACHE_SIZE"] = "0"  # no training cache: every fold trains for real
    quiet_rasa()  # no per-parse debug lines on stdout
    for name in ("rasa", "tensorflow", "absl", "spacy"):
        logging.getLogger(name).setLevel(logging.ERROR)

    examples = read_conll(args.data)
    bokmal = [e for e in examples if e.dialect == "B"]
    if args.max_examples and len(bokmal) > args.max_examples:
        bokmal = random.Random(args.seed).sample(bokmal, args.max_examples)
    kept = {e.sid for e in bokmal}
    dialects = [e for e in examples if e.dialect != "B" and e.sid in kept]
    test = read_conll(args.test) if args.test else []

    pipelines: dict[str, Classifier] = {
        "ours": RasaNLU("vonr config.yml", our_config()),
        "default": RasaNLU("Rasa default", default_config()),
        "lr": CharNgramLR(),
    }
    chosen = [pipelines[p.strip()] for p in args.pipelines.split(",")]
    started, load_start = time.monotonic(), load()
    scores: dict[str, Score] = {}
    with tempfile.TemporaryDirectory(prefix="vonr-xsid-") as tmp:
        for clf in chosen:
            scores[clf.name] = run(clf, bokmal, dialects, args.folds, test,
                                   Path(tmp) / clf.name.replace(" ", "_"), args.seed)

    counts = Counter(e.dialect for e in dialects)
    header = ["pipeline", f"Bokmål {args.folds}-fold acc", "macro F1", "unseen dialect acc",
              *[f"dialect {d} acc" for d in sorted(counts)], "all dialects acc",
              "fallback (dialect)", "train s", "parse ms"]
    if test:
        header.insert(-2, f"{args.test.name} acc")
    rows = []
    for name, s in scores.items():
        row = [
            name,
            f"{pct(statistics.fmean(s.fold_acc))} ± {pct(statistics.pstdev(s.fold_acc))}",
            pct(statistics.fmean(s.fold_f1)),
            pct(accuracy(s.unseen)),
            *[pct(accuracy(s.dialect, d)) for d in sorted(counts)],
            pct(accuracy(s.dialect)),
            pct(fallback_rate(s.dialect)),
            f"{statistics.fmean(s.train_s):.0f}",
            f"{statistics.fmean(s.parse_ms):.1f}",
        ]
        if test:
            row.insert(-2, pct(accuracy(s.test)))
        rows.append(row)
    print(f"\nxSID-nb intent accuracy (%), {len(bokmal)} Bokmål sentences, "
          f"{len(set(e.intent for e in bokmal))} intents, {args.folds}-fold CV (seed {args.seed});"
          f" dialect sentences: {', '.join(f'{d} {n}' for d, n in sorted(counts.items()))}; "
          f"{time.monotonic() - started:.0f} s; load avg {load_start} at start, {load()} at end. "
          "unseen dialect = dialect renderings of the held-out fold's sentences; dialect columns "
          "= model trained on all Bokmål sentences.\n")
    print(table(header, rows, markdown=args.markdown))


if __name__ == "__main__":
    main()
