"""Rule layer of crisis detection: decides, fast and without a model, whether a message shows acute
danger, suicide/self-harm, a child at risk, trafficking or a wish to hurt someone, whether that
danger is only negated ("jeg er ikke i fare nå"), and whether the message is English. It is the
net of the crisis layer; `bot/crisis_model.py` joins it with the classifier.

Context decides what a danger word means: a clear past ("for ti år siden") or a general question
("hva er menneskehandel") suppresses a category unless a present-danger cue is there, and
present-tense violence ("han slår meg") lifts the past suppression. Weak present cues (a bare "nå",
"fortsatt") lift a past or question only inside a clause that itself names danger: "det er 10 år
siden nå, kan jeg anmelde?" stays history. A young writer about their own situation ("e det normalt
at pappa kaster ting på meg? e 15") keeps `child` despite the question form. Figures of speech
("jobben tar livet av meg haha") are cut out first. A habitual description ("når
han blir sint") suppresses only a category's `descriptive` patterns (plain violence, not threats to
kill, weapons or strangling). ``Crisis.calm`` lists the categories the context argues against, so
the classifier does not raise them on its own; ``Crisis.unreal`` marks jokes, dreams, films, games,
sport and school work, and ``Crisis.weak`` the categories found only by a broad word ("kniven",
"orker ikke mer"): for both the classifier must agree. All words and patterns
live in ``data/lexicon/crisis.yml`` (loaded and compiled once at import); this module only
interprets them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CATEGORIES = ("acute", "suicide", "child", "trafficking", "harm_others")  # priority order
LEXICON = Path(__file__).resolve().parent.parent / "data" / "lexicon" / "crisis.yml"

# Each Norwegian letter also matches the spellings people use without it.
_LETTER_VARIANTS = {"å": "(?:å|aa|a)", "ø": "(?:ø|oe|o)", "æ": "(?:æ|ae|e)"}
_ASCII = str.maketrans({"å": "a", "ø": "o", "æ": "e"})
_MACRO = re.compile(r"<([A-Z]+)>")
_REPEAT = re.compile(r"(\w)\1{2,}")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[\w'’-]+")
_NOW_EDGE = r"(?:akkurat )?(?:nå|no|nu|now)"
_CLAUSE = re.compile(r"\s*(?:[,.;:!?]+|\s-\s|\b(?:men|og|but|and)\b)\s*")


@dataclass(frozen=True)
class Crisis:
    """What the rules found in one message."""

    categories: tuple[str, ...]  # in priority order, empty if none
    negated: bool  # only negated danger found: lower urgency, numbers still shown
    lang: str  # "nb" or "en"
    # Categories the context argues against (past, general question, habitual, negated or denied,
    # and no present cue): a classifier-only claim for these is vetoed. Empty when danger is
    # present.
    calm: tuple[str, ...] = ()
    # Framed as a joke, dream, fiction, game, sport or school work: the found categories need the
    # classifier's agreement (bot/crisis_model.py decide).
    unreal: bool = False
    # Found only by a `weak` pattern (a broad word): needs the classifier's agreement.
    weak: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Cue:
    text: _Patterns | None
    lemmas: frozenset[str]


@dataclass(frozen=True)
class _Category:
    urgent: _Patterns | None
    text: _Patterns | None
    lemma: _Patterns | None
    descriptive: _Patterns | None  # like `text`, but a habitual description suppresses it
    combos: tuple[tuple[str, ...], ...]
    # Broad words with everyday senses: a hit needs the classifier's agreement.
    weak: _Patterns | None = None
    weak_lemma: _Patterns | None = None
    # Also found when a cue matches and one of its categories was found ("jeg er 14" plus suicide,
    # "datteren min er her" plus acute danger).
    implied: tuple[tuple[str, tuple[str, ...]], ...] = ()


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
        raw_implied = spec.get("implied_by") or []
        if isinstance(raw_implied, dict):
            raw_implied = [raw_implied]
        implied = tuple((i["cue"], tuple(i.get("categories", []))) for i in raw_implied)
        unknown = {c for combo in combos for c in combo} - cues.keys()
        unknown |= {cue for cue, _ in implied} - cues.keys()
        if unknown:
            raise ValueError(f"{name}: unknown cues {sorted(unknown)}")
        if {c for _, cats in implied for c in cats} - set(CATEGORIES):
            raise ValueError(f"{name}: unknown implied_by categories")
        categories[name] = _Category(
            _compile(spec.get("urgent"), macros),
            _compile(spec.get("text"), macros),
            _compile(spec.get("lemma"), macros),
            _compile(spec.get("descriptive"), macros),
            combos,
            _compile(spec.get("weak"), macros),
            _compile(spec.get("weak_lemma"), macros),
            implied,
        )
    return {
        "fallback": {k.lower(): str(v).lower() for k, v in raw.get("fallback_lemmas", {}).items()},
        "cues": cues,
        "categories": categories,
        "past": _compile(ctx["past"], macros),
        "question": _compile(ctx["question"], macros),
        "present": _compile(ctx["present"], macros),
        "present_now": _compile(ctx.get("present_now"), macros),
        "ongoing": _compile(ctx.get("ongoing"), macros),
        "ongoing_weak": _compile(ctx.get("ongoing_weak"), macros),
        "clause_danger": _compile(ctx.get("clause_danger"), macros),
        "hyperbole": _compile(ctx.get("hyperbole"), macros),
        "habitual": _compile(ctx.get("habitual"), macros),
        "adult": _compile(ctx.get("adult"), macros),
        "unreal": _compile(ctx.get("unreal"), macros),
        "benign": _compile(ctx.get("benign"), macros),
        "calm_now": _compile(ctx.get("calm_now"), macros),
        "denial": _compile(ctx.get("denial"), macros),
        "suicide_denial": _compile(ctx.get("suicide_denial"), macros),
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


def _clause_danger(clause: str) -> bool:
    """Whether one clause names danger itself (violence, threat, fear, a category pattern)."""
    fallback: dict[str, str] = _LEX["fallback"]
    words = [w.strip("'-") for w in _WORD.findall(clause)]
    lemma_set = frozenset(_fold(fallback.get(w, w)) for w in words) | frozenset(map(_fold, words))
    cues: dict[str, _Cue] = _LEX["cues"]
    if any(_cue_hit(cues[c], clause, lemma_set) for c in ("violence", "fear") if c in cues):
        return True
    extra: _Patterns | None = _LEX["clause_danger"]
    if extra is not None and extra.search(clause):
        return True
    return any(
        p is not None and p.search(clause)
        for cat in _LEX["categories"].values()
        for p in (cat.urgent, cat.text, cat.descriptive)
    )


def _weak_cue_in_danger_clause(patterns: _Patterns | None, text: str) -> bool:
    """A weak present cue ("nå", "fortsatt") counts only in a clause that names danger: "det er 10
    år siden nå" or "kan jeg fortsatt anmelde" say nothing about danger now."""
    if patterns is None:
        return False
    return any(patterns.search(c) and _clause_danger(c) for c in _CLAUSE.split(text))


def detect(text: str, lemmas: Sequence[str] | None = None) -> Crisis:
    """Find crisis categories in one user message.

    ``lemmas`` are the lower-case lemmas of ``text`` from our spaCy pipeline; without them a small
    form -> lemma map from the lexicon is applied to the words of the text.
    """
    norm = normalise(text)
    denied = suicide_denied = False
    suicide_denial: _Patterns | None = _LEX["suicide_denial"]
    if suicide_denial is not None and suicide_denial.search(norm):  # "har ikke selvmordstanker"
        suicide_denied = True
        norm = _SPACE.sub(" ", suicide_denial.sub(" ", norm)).strip()
    denial: _Patterns | None = _LEX["denial"]
    if denial is not None and denial.search(norm):  # "han slår meg ikke" is no danger cue
        denied = True
        norm = _SPACE.sub(" ", denial.sub(" ", norm)).strip()
    joked = False
    hyperbole: _Patterns | None = _LEX["hyperbole"]
    if hyperbole is not None and hyperbole.search(norm):  # "jobben tar livet av meg haha"
        joked = True
        norm = _SPACE.sub(" ", hyperbole.sub(" ", norm)).strip()
    words = [w.strip("'-") for w in _WORD.findall(norm)]
    if joked:  # the given lemmas still hold the figure of speech: lemmatise what is left instead
        lemmas = None
    if lemmas is None:
        fallback: dict[str, str] = _LEX["fallback"]
        lemmas = [fallback.get(w, w) for w in words]
    lemma_list = [lem.lower() for lem in lemmas]
    lemma_str = " ".join(lemma_list)
    lemma_set = frozenset(_fold(lem) for lem in lemma_list) | frozenset(_fold(w) for w in words)

    categories_spec: dict[str, _Category] = _LEX["categories"]
    negation: _Patterns = _LEX["negation"]
    without_neg = negation.sub(" ", norm)
    calm_now: _Patterns | None = _LEX["calm_now"]
    # "nå er jeg 34", "nå bor jeg alene": a "nå" that contrasts with the past is no present cue.
    present_text = calm_now.sub(" ", without_neg) if calm_now is not None else without_neg
    strong = bool(_LEX["present"].search(present_text)) or any(
        c.urgent is not None and c.urgent.search(without_neg) for c in categories_spec.values()
    )
    ongoing = bool(_LEX["ongoing"] is not None and _LEX["ongoing"].search(without_neg))
    past_hit = bool(_LEX["past"].search(norm))
    question = bool(_LEX["question"].search(norm))
    if not ongoing and past_hit:
        ongoing = _weak_cue_in_danger_clause(_LEX["ongoing_weak"], without_neg)
    past = not ongoing and past_hit
    now_bare: _Patterns | None = _LEX["present_now"]
    if strong or now_bare is None:
        present = strong
    elif past or question:  # a bare "nå" lifts past/question only where it names danger
        present = _weak_cue_in_danger_clause(now_bare, present_text)
    else:
        present = bool(now_bare.search(present_text))
    suppressed = not present and (past or question)
    habitual = not present and _LEX["habitual"] is not None and bool(_LEX["habitual"].search(norm))
    # A young writer asking about their own situation ("e det normalt at pappa kaster ting på meg?
    # e 15") is a child at risk however it is phrased: a question does not suppress `child`.
    young_self = (
        suppressed
        and not past
        and _cue_hit(_LEX["cues"]["young"], present_text, lemma_set)
        and _cue_hit(_LEX["cues"]["me_object"], present_text, frozenset())
    )

    found: list[str] = []
    weak: list[str] = []
    for name, cat in categories_spec.items():
        if cat.urgent is not None and cat.urgent.search(norm):
            found.append(name)
            continue
        if suppressed and not (young_self and name == "child"):
            continue
        hit = (
            (cat.text is not None and cat.text.search(norm))
            or (not habitual and cat.descriptive is not None and cat.descriptive.search(norm))
            or (cat.lemma is not None and cat.lemma.search(lemma_str))
            or any(
                all(_cue_hit(_LEX["cues"][c], present_text, lemma_set) for c in combo)
                for combo in cat.combos
            )
        )
        if hit:
            found.append(name)
        elif (cat.weak is not None and cat.weak.search(norm)) or (
            cat.weak_lemma is not None and cat.weak_lemma.search(lemma_str)
        ):
            found.append(name)
            weak.append(name)

    for name, cat in categories_spec.items():
        if name not in found and any(
            any(c in found for c in by) and _cue_hit(_LEX["cues"][cue], present_text, lemma_set)
            for cue, by in cat.implied
        ):
            found.append(name)
    found.sort(key=CATEGORIES.index)

    negation_hit = bool(negation.search(norm))
    adult = (
        "child" not in found
        and _LEX["adult"] is not None
        and bool(_LEX["adult"].search(norm))
        and not _cue_hit(_LEX["cues"]["young"], present_text, lemma_set)
    )
    negated = bool(found) and "suicide" not in found and not present and negation_hit
    calm: tuple[str, ...] = ()
    if not present:
        if suppressed or (
            not found and (joked or (_LEX["benign"] is not None and _LEX["benign"].search(norm)))
        ):
            calm = tuple(c for c in CATEGORIES if not (young_self and c == "child"))
        else:
            calm = tuple(
                c
                for c in CATEGORIES
                if (habitual and categories_spec[c].descriptive is not None)
                or (c != "suicide" and (negation_hit or denied))
                or (c == "suicide" and suicide_denied)
                or (c == "child" and adult)
            )
    unreal = _LEX["unreal"] is not None and bool(_LEX["unreal"].search(norm))
    return Crisis(
        tuple(found), negated, _language(words), calm, unreal, tuple(weak))
