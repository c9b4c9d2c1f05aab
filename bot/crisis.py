"""Rule layer of crisis detection: decides, fast and without a model, whether a message shows acute
danger, suicide/self-harm, a child at risk or trafficking, whether that danger is only negated
("jeg er ikke i fare nå"), and whether the message is English. All words and patterns live in
``data/lexicon/crisis.yml`` (loaded and compiled once at import); this module only interprets them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CATEGORIES = ("acute", "suicide", "child", "trafficking")  # priority order
LEXICON = Path(__file__).resolve().parent.parent / "data" / "lexicon" / "crisis.yml"

# Each Norwegian letter also matches the spellings people use without it.
_LETTER_VARIANTS = {"å": "(?:å|aa|a)", "ø": "(?:ø|oe|o)", "æ": "(?:æ|ae|e)"}
_ASCII = str.maketrans({"å": "a", "ø": "o", "æ": "e"})
_MACRO = re.compile(r"<([A-Z]+)>")
_REPEAT = re.compile(r"(\w)\1{2,}")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[\w'’-]+")
_NOW_EDGE = r"(?:akkurat )?(?:nå|no|nu|now)"


@dataclass(frozen=True)
class Crisis:
    """What the rules found in one message."""

    categories: tuple[str, ...]  # in priority order, empty if none
    negated: bool  # only negated danger found: lower urgency, numbers still shown
    lang: str  # "nb" or "en"


@dataclass(frozen=True)
class _Cue:
    text: _Patterns | None
    lemmas: frozenset[str]


@dataclass(frozen=True)
class _Category:
    urgent: _Patterns | None
    text: _Patterns | None
    lemma: _Patterns | None
    combos: tuple[tuple[str, ...], ...]


def _expand(pattern: str, macros: dict[str, str]) -> str:
    """Replace <MACRO>s, then let æ/ø/å also match their plain-letter spellings."""
    if not isinstance(pattern, str):  # e.g. an unquoted "(?: x" that YAML read as a mapping
        raise TypeError(f"pattern is not a string: {pattern!r}")
    for _ in range(3):  # macros may use macros
        pattern = _MACRO.sub(lambda m: macros[m.group(1)], pattern)
    if re.search(r"\[[^\]]*[æøå][^\]]*\]", pattern):
        raise ValueError(f"æ/ø/å inside a character class is not supported: {pattern}")
    return "".join(_LETTER_VARIANTS.get(ch, ch) for ch in pattern)


class _Patterns:
    """A list of regexes searched one by one (faster in ``re`` than one big alternation)."""

    __slots__ = ("regexes",)

    def __init__(self, regexes: Sequence[re.Pattern[str]]) -> None:
        self.regexes = tuple(regexes)

    def search(self, text: str) -> bool:
        return any(r.search(text) for r in self.regexes)

    def sub(self, repl: str, text: str) -> str:
        for r in self.regexes:
            text = r.sub(repl, text)
        return text


def _compile(
    patterns: Sequence[str] | None, macros: dict[str, str], wrap: str = "{}"
) -> _Patterns | None:
    if not patterns:
        return None
    return _Patterns([re.compile(wrap.format(f"(?:{_expand(p, macros)})")) for p in patterns])


def _fold(word: str) -> str:
    return word.lower().translate(_ASCII)


def _load(path: Path = LEXICON) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        raw: dict[str, Any] = yaml.safe_load(fh)
    macros: dict[str, str] = raw.get("macros", {})
    ctx = raw["context"]
    cues = {
        name: _Cue(
            _compile(spec.get("text"), macros), frozenset(_fold(w) for w in spec.get("lemmas", []))
        )
        for name, spec in raw["cues"].items()
    }
    categories: dict[str, _Category] = {}
    for name in CATEGORIES:
        spec = raw["categories"].get(name, {})
        combos = tuple(tuple(c) for c in spec.get("combos", []))
        unknown = {c for combo in combos for c in combo} - cues.keys()
        if unknown:
            raise ValueError(f"{name}: unknown cues {sorted(unknown)}")
        categories[name] = _Category(
            _compile(spec.get("urgent"), macros),
            _compile(spec.get("text"), macros),
            _compile(spec.get("lemma"), macros),
            combos,
        )
    return {
        "fallback": {k.lower(): str(v).lower() for k, v in raw.get("fallback_lemmas", {}).items()},
        "cues": cues,
        "categories": categories,
        "past": _compile(ctx["past"], macros),
        "question": _compile(ctx["question"], macros),
        "present": _compile(ctx["present"], macros),
        "denial": _compile(ctx.get("denial"), macros),
        # A negation phrase swallows a "nå" next to it, so "ikke i fare nå" leaves no present cue.
        "negation": _compile(
            ctx["negation"],
            macros,
            wrap=rf"(?:{_NOW_EDGE}\s+)?{{}}(?:\s+{_expand(_NOW_EDGE, {})})?",
        ),
        "en": frozenset(w.lower() for w in raw["english"]["en"]),
        "nb": frozenset(w.lower() for w in raw["english"]["nb"]),
    }


_LEX = _load()


def normalise(text: str) -> str:
    """Lower-case, straight apostrophes, collapsed letter runs ("hjeeelp") and whitespace."""
    text = text.lower().replace("’", "'").replace("`", "'")
    return _SPACE.sub(" ", _REPEAT.sub(r"\1", text)).strip()


def _language(words: Sequence[str]) -> str:
    en = sum(w in _LEX["en"] for w in words)
    nb = sum(w in _LEX["nb"] for w in words)
    return "en" if en > nb and en >= 1 else "nb"


def _cue_hit(cue: _Cue, text: str, lemma_set: frozenset[str]) -> bool:
    return bool(cue.text and cue.text.search(text)) or not cue.lemmas.isdisjoint(lemma_set)


def detect(text: str, lemmas: Sequence[str] | None = None) -> Crisis:
    """Find crisis categories in one user message.

    ``lemmas`` are the lower-case lemmas of ``text`` from our spaCy pipeline; without them a small
    form -> lemma map from the lexicon is applied to the words of the text.
    """
    norm = normalise(text)
    denial: _Patterns | None = _LEX["denial"]
    if denial is not None:  # "han slår meg ikke" is no danger cue
        norm = _SPACE.sub(" ", denial.sub(" ", norm)).strip()
    words = [w.strip("'-") for w in _WORD.findall(norm)]
    if lemmas is None:
        fallback: dict[str, str] = _LEX["fallback"]
        lemmas = [fallback.get(w, w) for w in words]
    lemma_list = [lem.lower() for lem in lemmas]
    lemma_str = " ".join(lemma_list)
    lemma_set = frozenset(_fold(lem) for lem in lemma_list) | frozenset(_fold(w) for w in words)

    categories_spec: dict[str, _Category] = _LEX["categories"]
    negation: _Patterns = _LEX["negation"]
    without_neg = negation.sub(" ", norm)
    present = bool(_LEX["present"].search(without_neg)) or any(
        c.urgent is not None and c.urgent.search(without_neg) for c in categories_spec.values()
    )
    suppressed = not present and bool(_LEX["past"].search(norm) or _LEX["question"].search(norm))

    found: list[str] = []
    for name, cat in categories_spec.items():
        if cat.urgent is not None and cat.urgent.search(norm):
            found.append(name)
            continue
        if suppressed:
            continue
        hit = (
            (cat.text is not None and cat.text.search(norm))
            or (cat.lemma is not None and cat.lemma.search(lemma_str))
            or any(
                all(_cue_hit(_LEX["cues"][c], without_neg, lemma_set) for c in combo)
                for combo in cat.combos
            )
        )
        if hit:
            found.append(name)

    negated = bool(found) and "suicide" not in found and not present and bool(negation.search(norm))
    return Crisis(categories=tuple(found), negated=negated, lang=_language(words))
