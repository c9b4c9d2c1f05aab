"""How well the whole NLU pipeline (DIET, the n-gram ensemble, the fallback and the crisis layer)
understands a labelled NLU set, through a loaded Rasa agent. Shared by the `make test` gate
(tests/test_understanding.py) and the benchmark that prints the table (bench/nlu.py).

Two measures per message:
- *top intent* (what `rasa test nlu` counts): the best intent with the fallback undone; a crisis
  intent counts as wrong.
- *answered*: the first reply answers the question: the intent is right, or a crisis reply also
  carries the answer (`parse["crisis"]["question"]`, issue 14). A fallback counts as not answered,
  even when its "Mente du ...?" buttons hold the right topic (counted apart as `guessed`).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.crisis_contract import FALLBACK_INTENT, INTENT_PREFIX, PARSE_KEY

_ANNOTATION = re.compile(r"\[([^\]]*)\]\{[^}]*\}")


def read_examples(path: Path) -> list[tuple[str, str]]:
    """(text, intent) pairs of a Rasa NLU file, entity annotations removed."""
    out = []
    for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
        if "intent" not in block:
            continue
        for line in block.get("examples", "").splitlines():
            if line.strip().startswith("- "):
                out.append((_ANNOTATION.sub(r"\1", line.strip()[2:]), str(block["intent"])))
    return out


@dataclass
class NluResult:
    gold: list[str] = field(default_factory=list)
    top: list[str] = field(default_factory=list)  # fallback undone
    answered: list[bool] = field(default_factory=list)
    fallback: int = 0
    guessed: int = 0  # fallbacks whose "Mente du" buttons held the right topic
    texts: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return sum(g == t for g, t in zip(self.gold, self.top, strict=True)) / len(self.gold)

    @property
    def answer_rate(self) -> float:
        return sum(self.answered) / len(self.answered)

    @property
    def macro_f1(self) -> float:
        scores = []
        for intent in sorted(set(self.gold)):
            tp = sum(g == t == intent for g, t in zip(self.gold, self.top, strict=True))
            predicted = sum(t == intent for t in self.top)
            actual = sum(g == intent for g in self.gold)
            precision = tp / predicted if predicted else 0.0
            recall = tp / actual
            scores.append(2 * precision * recall / (precision + recall) if tp else 0.0)
        return sum(scores) / len(scores)

    def confusions(self) -> Counter[tuple[str, str]]:
        return Counter((g, t) for g, t in zip(self.gold, self.top, strict=True) if g != t)


def outcome(parse: dict[str, Any], gold: str) -> tuple[str, bool, bool, bool]:
    """(top intent with the fallback undone, answered, fell back, right topic among the two
    best)."""
    ranking = [str(r.get("name")) for r in parse.get("intent_ranking") or []]
    intent = str((parse.get("intent") or {}).get("name"))
    top = next((n for n in ranking if n != FALLBACK_INTENT), intent)
    crisis = parse.get(PARSE_KEY) or {}
    fell_back = intent == FALLBACK_INTENT
    answered = intent == gold or (
        intent.startswith(INTENT_PREFIX) and crisis.get("question") == gold)
    guessed = fell_back and gold in [n for n in ranking if n != FALLBACK_INTENT][:2]
    return top, answered, fell_back, guessed


async def evaluate(agent: Any, path: Path) -> NluResult:
    result = NluResult()
    for text, gold in read_examples(path):
        top, answered, fell_back, guessed = outcome(await agent.parse_message(text), gold)
        result.gold.append(gold)
        result.top.append(top)
        result.answered.append(answered)
        result.fallback += fell_back
        result.guessed += guessed
        result.texts.append(text)
    return result
