"""Replays the crisis layer's decision (`bot/crisis_layer.py`) over recorded inputs, so a change to
it, or to the rules (`bot/crisis.py`, `data/lexicon/crisis.yml`), is measured on every labelled set
in seconds instead of a parse of every line through Rasa.

    python -m bench.crisis_replay record [--model PATH] [--set FILE ...]
    python -m bench.crisis_replay run [--set FILE ...] [--config KEY=JSON ...] [--misses]

`record` parses every line of the sets once through the real trained model and keeps what the
layer saw (text, lemmas, the classifier's scores, the NLU's ranking) in build/replay/, keyed by
the model. `run` decides again with the current code and config.yml (`--config` overrides a
setting, e.g. `--config info_high=0.9`) and prints, per set, the same figures as bench.crisis
(crisis sets) or bench.nlu (NLU sets), counted by the same code; `--misses` lists the lines too,
for development sets only (it refuses C, F, G, AH to AJ, AO, AP, the NLU gates and any
held-out set).
A crisis set whose header says HELD OUT, and an NLU set not in bench.nlu's list, runs only when
named with --set.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import pickle
from pathlib import Path
from typing import Any

import yaml

from bench.crisis import held_out
from bench.crisis import report as crisis_report
from bench.crisis_calibrate import configured
from bench.nlu import SETS as NLU_SETS
from bench.nlu import report as nlu_report
from bot import crisis_layer
from bot.crisis_contract import PARSE_KEY
from bot.crisis_eval import evaluate as crisis_evaluate
from bot.nlu_eval import evaluate as nlu_evaluate
from bot.nlu_eval import read_examples

ROOT = Path(__file__).resolve().parent.parent
CRISIS_DIR = ROOT / "tests" / "crisis"
NLU_DIR = ROOT / "tests" / "nlu"
STORE = ROOT / "build" / "replay"


def default_sets() -> list[Path]:
    crisis_sets = [p for p in sorted(CRISIS_DIR.glob("*.yml")) if not held_out(p)]
    return [*crisis_sets, *(NLU_DIR / name for name in NLU_SETS)]


def is_nlu(path: Path) -> bool:
    return "nlu" in (yaml.safe_load(path.read_text(encoding="utf-8")) or {})


def texts(path: Path) -> list[str]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if "nlu" in raw:
        return [text for text, _ in read_examples(path)]
    return [str(c["text"]) for c in (raw.get("crisis") or []) + (raw.get("non_crisis") or [])]


def store_path(model: Path) -> Path:
    return STORE / f"{model.name.removesuffix('.tar.gz')}.pkl"


async def record_inputs(agent: Any, lines: list[str],
                        into: dict[str, crisis_layer.Inputs] | None = None
                        ) -> dict[str, crisis_layer.Inputs]:
    """Parses each line through `agent` (a loaded Rasa agent) and keeps what the layer saw."""
    recorded = {} if into is None else into
    judge = crisis_layer.judge
    current: list[str] = []

    def recording(inputs: crisis_layer.Inputs, settings: crisis_layer.Settings
                  ) -> crisis_layer.Outcome:
        recorded[current[-1]] = inputs
        return judge(inputs, settings)

    crisis_layer.judge = recording  # type: ignore[assignment]
    try:
        for line in lines:
            current.append(line)
            await agent.parse_message(line)
    finally:
        crisis_layer.judge = judge  # type: ignore[assignment]
    return recorded


def record(model: Path, sets: list[Path]) -> None:
    from rasa.core.agent import load_agent

    from bench.common import quiet_rasa

    path = store_path(model)
    recorded: dict[str, crisis_layer.Inputs] = (
        pickle.loads(path.read_bytes()) if path.exists() else {})
    # Every set is read before the model loads: a missing or broken file fails at once, not after
    # a quarter of an hour of parsing (a set moved during a run once did).
    lines = {set_path: texts(set_path) for set_path in sets}
    quiet_rasa()
    agent = asyncio.run(load_agent(model_path=str(model)))
    try:
        for set_path in sets:
            todo = [t for t in lines[set_path] if t not in recorded]
            asyncio.run(record_inputs(agent, todo, recorded))
            print(f"{set_path.name}: {len(todo)} recorded", flush=True)
    finally:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pickle.dumps(recorded))
    print(f"{len(recorded)} messages in {path}")


class Replay:
    """Stands in for a Rasa agent in the evaluations: `parse_message` decides again."""

    def __init__(self, recorded: dict[str, crisis_layer.Inputs],
                 settings: crisis_layer.Settings) -> None:
        self.recorded = recorded
        self.settings = settings

    async def parse_message(self, text: str) -> dict[str, Any]:
        inputs = self.recorded.get(text)
        if inputs is None:
            raise SystemExit(f"not recorded (run `record` first): {text!r}")
        outcome = crisis_layer.judge(inputs, self.settings)
        parse: dict[str, Any] = {"text": text, "intent": outcome.intent or inputs.intent,
                                 "intent_ranking": outcome.ranking or inputs.ranking}
        if outcome.info is not None:
            parse[PARSE_KEY] = outcome.info
        return parse


# Sets whose lines must not be read (C quoted by issue 14, F named by it, G, AH to AJ, AO and AP
# reported only; AK, AM and AN are development sets since the twenty-fourth session): with the
# NLU gates (tests/nlu/heldout*.yml) and any held-out set, `--misses` refuses them. A replay over
# every set with `--misses` once printed a held-out set's misses (docs/crisis.md, sixteenth
# session).
REPORT_ONLY = frozenset({"cases_c.yml", "cases_f.yml", "cases_g.yml", "cases_ah.yml",
                         "cases_ai.yml", "cases_aj.yml", "cases_ao.yml", "cases_ap.yml"})


def readable(path: Path) -> bool:
    """May this set's lines be listed (a development set), or only its figures?"""
    if is_nlu(path):
        return not path.name.startswith("heldout")
    return path.name not in REPORT_ONLY and not held_out(path)


def run(model: Path, sets: list[Path], overrides: dict[str, Any], misses: bool) -> None:
    """`misses`: list the lines missed, not answered or falsely alarmed; without it only the
    figures are printed. Refused for a set whose lines must not be read (`readable`)."""
    if misses and (closed := [p.name for p in sets if not readable(p)]):
        raise SystemExit(f"--misses would list the lines of {', '.join(closed)}: figures only "
                         "for these (leave out --misses, or name development sets with --set)")
    path = store_path(model)
    if not path.exists():
        raise SystemExit(f"nothing recorded for {model.name}: run `record` first")
    agent = Replay(pickle.loads(path.read_bytes()),
                   crisis_layer.Settings.from_config({**configured(), **overrides}))
    for set_path in sets:
        if is_nlu(set_path):
            nlu_report(set_path.name, asyncio.run(nlu_evaluate(agent, set_path)), misses)
        else:
            crisis_report(set_path.name, asyncio.run(crisis_evaluate(agent, set_path)), misses)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("record", "run"))
    parser.add_argument("--model", type=Path)
    parser.add_argument("--set", action="append", type=Path, dest="sets")
    parser.add_argument("--config", action="append", default=[],
                        help="KEY=JSON, overriding config.yml's CrisisDetector setting")
    parser.add_argument("--misses", action="store_true",
                        help="list the lines missed (crisis) or not answered (NLU)")
    args = parser.parse_args()
    from bot.train import model_path

    model = args.model or model_path()
    sets = args.sets or default_sets()
    if args.command == "record":
        record(model, sets)
    else:
        overrides = {k: json.loads(v) for k, v in (c.split("=", 1) for c in args.config)}
        run(model, sets, overrides, args.misses)


if __name__ == "__main__":
    main()
