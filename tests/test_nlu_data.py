"""The NLU training data and the held-out gate: enough examples from many voices per intent, and
no held-out line trained on (a gate that memorises its answers measures nothing)."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from bot.crisis_contract import INTENT_PREFIX
from bot.nlu_eval import read_examples

ROOT = Path(__file__).resolve().parent.parent
MIN_EXAMPLES = 80


def _examples(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for text, intent in read_examples(path):
        out.setdefault(intent, []).append(text)
    return out


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[^\w ]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def training() -> dict[str, list[str]]:
    data: dict[str, list[str]] = {}
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for intent, lines in _examples(path).items():
            data.setdefault(intent, []).extend(lines)
    return data


def test_every_intent_has_enough_examples() -> None:
    counts = {intent: len(lines) for intent, lines in training().items()}
    few = {intent: n for intent, n in counts.items() if n < MIN_EXAMPLES}
    assert not few, f"intents under {MIN_EXAMPLES} examples: {few}"


@pytest.mark.parametrize("name", ["heldout.yml", "heldout_c.yml", "heldout_p.yml"])
def test_held_out_set_is_large_and_covers_every_topic(name: str) -> None:
    held = _examples(ROOT / "tests" / "nlu" / name)
    assert sum(len(lines) for lines in held.values()) >= 600
    topics = {i for i in training() if not i.startswith(INTENT_PREFIX)}
    assert topics <= set(held), sorted(topics - set(held))


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "tests/nlu").glob("heldout*.yml")))
def test_no_held_out_line_is_trained_on(name: str) -> None:
    held = _examples(ROOT / "tests" / "nlu" / name)
    seen = {_norm(line) for lines in training().values() for line in lines}
    overlap = sorted({_norm(line) for lines in held.values() for line in lines} & seen)
    assert not overlap, overlap[:10]
