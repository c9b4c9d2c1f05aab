"""The crisis lexicon as typed objects: `data/lexicon/crisis.yml` (macros, cues, context patterns,
the categories' patterns, the English marker words) read, checked and compiled once. `load()`
returns a `Lexicon`; `bot/crisis.py` interprets it. A pattern list the file leaves out is an empty
`Patterns`, which matches nothing and changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from bot.crisis_contract import CATEGORIES

LEXICON = Path(__file__).resolve().parent.parent / "data" / "lexicon" / "crisis.yml"

# Each Norwegian letter also matches the spellings people use without it.
_LETTER_VARIANTS = {"å": "(?:å|aa|a)", "ø": "(?:ø|oe|o)", "æ": "(?:æ|ae|e)"}
_ASCII = str.maketrans({"å": "a", "ø": "o", "æ": "e"})
_MACRO = re.compile(r"<([A-Z]+)>")


class _StrictLoader(yaml.SafeLoader):
    """YAML that refuses a key twice in one mapping: a second `urgent: []` would silently drop
    every pattern of the first (it did, once)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys = [self.construct_object(k, deep=deep) for k, _ in node.value]
        twice = sorted({str(k) for k in keys if keys.count(k) > 1})
        if twice:
            raise ValueError(f"{node.start_mark}: key given twice: {twice}")
        return super().construct_mapping(node, deep=deep)
_NOW_EDGE = r"(?:akkurat )?(?:nå|no|nu|now)"


class Patterns:
    """A list of regexes searched one by one (faster in ``re`` than one big alternation); empty
    when the lexicon gives none, and then it matches nothing and changes nothing."""

    __slots__ = ("regexes",)

    def __init__(self, regexes: Sequence[re.Pattern[str]] = ()) -> None:
        self.regexes = tuple(regexes)

    def __len__(self) -> int:
        return len(self.regexes)

    def search(self, text: str) -> bool:
        return any(r.search(text) for r in self.regexes)

    def sub(self, repl: str, text: str) -> str:
        for r in self.regexes:
            text = r.sub(repl, text)
        return text


NONE = Patterns()


@dataclass(frozen=True)
class Cue:
    """A named cue: found by a text pattern or by one of its lemmas."""

    text: Patterns
    lemmas: frozenset[str]


@dataclass(frozen=True)
class Implied:
    """An `implied_by` entry: the category is also found when `cue` matches (and `unless` does
    not) and one of `categories` was found; when `scored`, only if the classifier's own score for
    the category is at least `maybe` too."""

    cue: str
    categories: tuple[str, ...]
    unless: str | None = None
    scored: bool = False


@dataclass(frozen=True)
class Category:
    """One category's patterns: `urgent` holds whatever the context says; `text`, `dated` (text,
    but also a recent date sets it aside), `descriptive` (text), `lemma` (lemmas) and `combos`
    (all cues of one combo) only without a suppressing context."""

    urgent: Patterns = NONE
    dated: Patterns = NONE
    text: Patterns = NONE
    lemma: Patterns = NONE
    descriptive: Patterns = NONE  # like `text`, but a habitual description suppresses it
    combos: tuple[tuple[str, ...], ...] = ()
    # Broad words with everyday senses: a hit needs the classifier's agreement.
    weak: Patterns = NONE
    weak_lemma: Patterns = NONE
    # Also found when a cue matches and one of its categories was found ("jeg er 14" plus suicide,
    # "datteren min er her" plus acute danger).
    implied: tuple[Implied, ...] = ()
    # Warning signs: found when at least `signs_min` different ones of these cues match (a plan
    # and the means, exhaustion and a farewell), each of which alone says too little.
    signs: tuple[str, ...] = ()
    signs_min: int = 2
    signs_weak: bool = True


@dataclass(frozen=True)
class Context:
    """The lexicon's `context` patterns (docs in data/lexicon/crisis.yml)."""

    past: Patterns
    question: Patterns
    present: Patterns
    negation: Patterns  # also swallows a "nå" next to it
    present_now: Patterns = NONE
    recent_past: Patterns = NONE  # yesterday, last week: sets aside only a category's `dated`
    again: Patterns = NONE  # "neste gang": a threat that keeps a dated hit present
    impact: Patterns = NONE  # "hva gjør det med dem?": how it affects someone ...
    witnessed: Patterns = NONE  # ... who saw or heard it: with `impact`, a question
    ongoing: Patterns = NONE
    ongoing_weak: Patterns = NONE
    clause_danger: Patterns = NONE
    hyperbole: Patterns = NONE
    idiom_threat: Patterns = NONE  # "mamma dreper meg hvis ...": alone, a weak cue ...
    idiom_real: Patterns = NONE  # ... unless reported, feared, over leaving, a weapon
    habitual: Patterns = NONE
    adult: Patterns = NONE
    unreal: Patterns = NONE
    real_harm: Patterns = NONE  # overrides `unreal`: a parent hitting the writer is no game
    benign: Patterns = NONE
    calm_now: Patterns = NONE
    denial: Patterns = NONE
    suicide_denial: Patterns = NONE


@dataclass(frozen=True)
class Lexicon:
    """The whole lexicon, compiled."""

    fallback: Mapping[str, str]  # word form -> lemma, when no spaCy lemmas are given
    cues: Mapping[str, Cue]
    categories: Mapping[str, Category]  # in CATEGORIES order
    context: Context
    english: frozenset[str]  # words that mark a message as English ...
    bokmal: frozenset[str]  # ... and as Norwegian
    learner: Learner
    spellings: Spellings


@dataclass(frozen=True)
class Spellings:
    """Letters and whole words written another way, read in the spelling the patterns use
    (a Swedish or German keyboard's "ö" as "ø", "ikveld" as "i kveld", Swedish "inte" as "ikke")."""

    letters: Mapping[int, str]
    pattern: re.Pattern[str]
    forms: Mapping[str, str]

    def read(self, text: str) -> str:
        text = text.translate(self.letters)
        return self.pattern.sub(lambda m: self.forms[m[0]], text) if self.forms else text


@dataclass(frozen=True)
class Learner:
    """Basic Norwegian as learners write it, read as standard forms before matching."""

    pattern: re.Pattern[str]  # (the word before,) a subject, a verb in the infinitive
    forms: Mapping[str, str]  # infinitive -> present tense, singular -> plural
    inverting: frozenset[str]  # words after which subject + infinitive is standard ("kan han ta")

    def read(self, text: str) -> str:
        """"han slå meg" -> "han slår meg", "mange tablett" -> "mange tabletter"; "kan han
        ta barna?" stays as it is."""

        def standard(m: re.Match[str]) -> str:
            if m[1] and m[1].strip() in self.inverting:
                return m[0]
            return f"{m[1] or ''}{m[2]} {self.forms[m[3]]}"

        return self.pattern.sub(standard, text)


def _expand(pattern: str, macros: dict[str, str]) -> str:
    """Replace <MACRO>s, then let æ/ø/å also match their plain-letter spellings."""
    if not isinstance(pattern, str):  # e.g. an unquoted "(?: x" that YAML read as a mapping
        raise TypeError(f"pattern is not a string: {pattern!r}")
    for _ in range(3):  # macros may use macros
        pattern = _MACRO.sub(lambda m: macros[m.group(1)], pattern)
    if leftover := re.search(r"<[A-Z][A-Z_0-9]*>", pattern):  # e.g. <A_B>: names are A-Z only
        raise ValueError(f"unknown or misspelt macro {leftover.group()} in: {pattern}")
    if re.search(r"\[[^\]]*[æøå][^\]]*\]", pattern):
        raise ValueError(f"æ/ø/å inside a character class is not supported: {pattern}")
    return "".join(_LETTER_VARIANTS.get(ch, ch) for ch in pattern)


def _compile(patterns: Sequence[str] | None, macros: dict[str, str], wrap: str = "{}") -> Patterns:
    if not patterns:
        return NONE
    return Patterns([re.compile(wrap.format(f"(?:{_expand(p, macros)})")) for p in patterns])


def fold(word: str) -> str:
    """Lower case, æ/ø/å as the plain letters (cue lemmas and the lemma sets they are met in)."""
    return word.lower().translate(_ASCII)


def _category(
    name: str, spec: dict[str, Any], macros: dict[str, str], cues: Mapping[str, Cue]
) -> Category:
    combos = tuple(tuple(c) for c in spec.get("combos", []))
    raw_implied = spec.get("implied_by") or []
    if isinstance(raw_implied, dict):
        raw_implied = [raw_implied]
    implied = tuple(
        Implied(i["cue"], tuple(i.get("categories", [])), i.get("unless"), bool(i.get("scored")))
        for i in raw_implied)
    raw_signs = spec.get("signs") or {}
    signs = tuple(raw_signs.get("cues") or ())
    unknown = {c for combo in combos for c in combo} - cues.keys()
    unknown |= set(signs) - cues.keys()
    unknown |= {n for i in implied for n in (i.cue, i.unless) if n} - cues.keys()
    if unknown:
        raise ValueError(f"{name}: unknown cues {sorted(unknown)}")
    if {c for i in implied for c in i.categories} - set(CATEGORIES):
        raise ValueError(f"{name}: unknown implied_by categories")
    keys = ("urgent", "dated", "text", "lemma", "descriptive", "weak", "weak_lemma")
    patterns = {key: _compile(spec.get(key), macros) for key in keys}
    return Category(combos=combos, implied=implied, signs=signs,
                    signs_min=int(raw_signs.get("min", 2)),
                    signs_weak=bool(raw_signs.get("weak", True)), **patterns)


def _context(ctx: dict[str, Any], macros: dict[str, str]) -> Context:
    missing = [k for k in ("past", "question", "present", "negation") if not ctx.get(k)]
    if missing:
        raise ValueError(f"context: missing {missing}")
    patterns = {f.name: _compile(ctx.get(f.name), macros)
                for f in fields(Context) if f.name != "negation"}
    # A negation phrase swallows a "nå" next to it, so "ikke i fare nå" leaves no present cue.
    negation = _compile(ctx["negation"], macros,
                        wrap=rf"(?:{_NOW_EDGE}\s+)?{{}}(?:\s+{_expand(_NOW_EDGE, {})})?")
    return Context(negation=negation, **patterns)


def load(path: Path = LEXICON) -> Lexicon:
    """Read, check and compile the lexicon (unknown cues or categories raise ValueError)."""
    with path.open(encoding="utf-8") as fh:
        raw: dict[str, Any] = yaml.load(fh, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader
    macros: dict[str, str] = raw.get("macros", {})
    cues = {
        name: Cue(
            _compile(spec.get("text"), macros), frozenset(fold(w) for w in spec.get("lemmas", []))
        )
        for name, spec in raw["cues"].items()
    }
    return Lexicon(
        fallback={k.lower(): str(v).lower() for k, v in raw.get("fallback_lemmas", {}).items()},
        cues=cues,
        categories={name: _category(name, raw["categories"].get(name, {}), macros, cues)
                    for name in CATEGORIES},
        context=_context(raw["context"], macros),
        english=frozenset(w.lower() for w in raw["english"]["en"]),
        bokmal=frozenset(w.lower() for w in raw["english"]["nb"]),
        learner=_learner(raw["learner"]),
        spellings=_spellings(raw.get("spellings") or {}),
    )


def _spellings(spec: dict[str, Any]) -> Spellings:
    letters = str.maketrans({str(k): str(v) for k, v in (spec.get("letters") or {}).items()})
    forms = {str(k).lower().translate(letters): str(v).lower()
             for k, v in (spec.get("words") or {}).items()}
    alternatives = "|".join(re.escape(w) for w in sorted(forms, key=len, reverse=True))
    return Spellings(letters, re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)"), forms)


def _learner(spec: dict[str, Any]) -> Learner:
    forms: dict[str, str] = {}
    for key in ("verbs", "plurals"):
        for short, full in spec[key].items():
            forms[str(short)] = forms[fold(str(short))] = str(full)
    heads = [*spec["subjects"], *spec["quantities"]]
    alternatives = "|".join(re.escape(w) for w in sorted(forms, key=len, reverse=True))
    pattern = rf"(\w+ )?\b({'|'.join(re.escape(h) for h in heads)}) ({alternatives})\b"
    words = [str(w) for w in spec["inverting"]]
    return Learner(re.compile(pattern), forms, frozenset(words) | {fold(w) for w in words})
