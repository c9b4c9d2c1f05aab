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
("jobben tar livet av meg haha") are cut out first. A habitual description ("når han blir sint")
suppresses only a category's `descriptive` patterns (plain violence, not threats to kill, weapons
or strangling). Strangling (a category's `dated` patterns) also yields to a recent date ("i går",
"forrige helg") with nothing present, no threat of again and no young writer: the maybe tier asks
then. ``Crisis.calm`` lists the categories the context argues against, so the classifier does not
raise them on its own; ``Crisis.unreal`` marks jokes, dreams, films, games, sport and school work,
and ``Crisis.weak`` the categories found only by a broad word ("kniven", "orker ikke mer"): for
both the classifier must agree. ``Crisis.framed`` keeps what the context set aside (the maybe tier
speaks for it) and ``Crisis.implied`` a cue ("jeg og barn inne") whose implying danger only the
classifier may find (bot/crisis_verdict.py). All words and patterns live in
``data/lexicon/crisis.yml`` (compiled once at import into typed objects by
``bot/crisis_lexicon.py``); this module only interprets them, in four steps: read basic Norwegian
as standard forms and cut denials and figures of speech (`_message`), read the context (`_read`),
match the categories (`_match`, with ``Crisis.leaning`` for a category a cue only suggests, and a
category's warning signs: two different ones of its `signs` cues, a plan and the means), and
find what the context argues against (`_calm`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.crisis_contract import CATEGORIES  # defined there; crisis.CATEGORIES stays importable
from bot.crisis_lexicon import Category, Cue, Patterns, fold, load

_REPEAT = re.compile(r"(\w)\1{2,}")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[\w'’-]+")
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
    # Matched, but set aside by the context (past or a general question, nothing present, no
    # "I'm safe now"): the maybe tier, so a rule hit is never silent.
    framed: tuple[str, ...] = ()
    # (category, implying categories) whose `implied_by` cue is there though the rules found none
    # of the implying categories: "jeg og barn inne" is a child at risk once the classifier finds
    # acute danger.
    implied: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # (category, implying categories) whose `scored` `implied_by` cue is there: joins a crisis
    # one of the implying categories raised only when the classifier's own score for it is at
    # least `maybe` ("en liten gutt" in a message about acute danger).
    leaning: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # A recent date ("i går", "forrige helg"): the message reports an event, so even a question
    # about it is no definition question ("er det normalt at ...? skjedde igjen i går").
    recent: bool = False
    # A question about what was done to the writer ("e det farlig at æ blei kvelt?"): like a
    # recent date, it reports an event, so it is no definition question either.
    personal: bool = False
    # Found only by a `descriptive` pattern with nothing present ("kjæresten min slår meg, er det
    # vold?"): in a question the NLU knows well, the maybe tier instead of the crisis reply.
    described: tuple[str, ...] = ()


_LEX = load()


def normalise(text: str) -> str:
    """Lower-case, straight apostrophes, collapsed letter runs ("hjeeelp") and whitespace, words
    in the spelling the patterns use (`spellings`)."""
    text = text.lower().replace("’", "'").replace("`", "'")
    return _LEX.spellings.read(_SPACE.sub(" ", _REPEAT.sub(r"\1", text)).strip())


def young_writer(text: str) -> bool:
    """The writer says they are under 18 ("jeg er 14", "går i 9. klasse", "i'm 15") and nothing
    in the message says they are an adult: read over a conversation, not only one message."""
    young = _cue_hit(_LEX.cues["young"], normalise(text), frozenset())
    return bool(young) and not adult_writer(text)


def adult_writer(text: str) -> bool:
    """The writer says something only an adult says (a spouse, children of their own, an adult
    age)."""
    return bool(_cue_hit(_LEX.cues["adult_voice"], normalise(text), frozenset()))


def _language(words: Sequence[str]) -> str:
    en = sum(w in _LEX.english for w in words)
    nb = sum(w in _LEX.bokmal for w in words)
    return "en" if en > nb and en >= 1 else "nb"


def _cue_hit(cue: Cue, text: str, lemma_set: frozenset[str]) -> bool:
    return cue.text.search(text) or not cue.lemmas.isdisjoint(lemma_set)


def _lemma_set(words: Sequence[str], lemmas: Sequence[str]) -> frozenset[str]:
    return frozenset(map(fold, lemmas)) | frozenset(map(fold, words))


def _clause_danger(clause: str) -> bool:
    """Whether one clause names danger itself (violence, threat, fear, a category pattern)."""
    words = [w.strip("'-") for w in _WORD.findall(clause)]
    lemma_set = _lemma_set(words, [_LEX.fallback.get(w, w) for w in words])
    cues = _LEX.cues
    if any(_cue_hit(cues[c], clause, lemma_set) for c in ("violence", "fear") if c in cues):
        return True
    if _LEX.context.clause_danger.search(clause):
        return True
    return any(
        p.search(clause)
        for cat in _LEX.categories.values()
        for p in (cat.urgent, cat.text, cat.descriptive)
    )


def _weak_cue_in_danger_clause(patterns: Patterns, text: str) -> bool:
    """A weak present cue ("nå", "fortsatt") counts only in a clause that names danger: "det er 10
    år siden nå" or "kan jeg fortsatt anmelde" say nothing about danger now."""
    return bool(patterns) and any(
        patterns.search(c) and _clause_danger(c) for c in _CLAUSE.split(text))


# ---- detect: cut, read the context, match, then what the context argues against --------------

@dataclass(frozen=True)
class _Message:
    """One message as the steps of `detect` read it."""

    norm: str  # normalised, without denials and figures of speech
    words: tuple[str, ...]
    lemma_str: str  # the lemmas, space-separated (for `lemma` patterns)
    lemma_set: frozenset[str]  # lemmas and words, folded (for cues)
    denied: bool  # a denial was cut ("han slår meg ikke")
    suicide_denied: bool  # a denial of suicidal thoughts was cut ("har ikke selvmordstanker")
    joked: bool  # a figure of speech was cut ("jobben tar livet av meg haha")
    # Before the figure of speech was cut: its framing still holds for the rest ("kona slo meg i
    # kortspill igjen, ho e umulig å slå": the card game frames "slå" too).
    uncut: str


@dataclass(frozen=True)
class _Reading:
    """What the context says about the message's time and framing."""

    present_text: str  # without negation phrases and a "nå" that contrasts with the past
    present: bool  # danger now
    suppressed: bool  # past or a general question, and nothing present
    habitual: bool  # a habitual description ("når han blir sint"), nothing present
    young_self: bool  # a young writer asking about their own situation
    dated: bool  # a date sets it in the past ("i går", "for en uke siden"), nothing present
    recent: bool  # a recent date ("i går", "forrige helg"), whatever else is there
    personal: bool  # a question about what was done to the writer, not a general one


def _cut(patterns: Patterns, text: str) -> tuple[str, bool]:
    """`text` without what `patterns` match, and whether they matched."""
    if not patterns.search(text):
        return text, False
    return _SPACE.sub(" ", patterns.sub(" ", text)).strip(), True


def _message(text: str, lemmas: Sequence[str] | None) -> _Message:
    ctx = _LEX.context
    norm = normalise(text)
    # A learner's infinitive has no tense of its own: read as present only without a past marker
    # ("for to år siden mann slå meg" stays in the past).
    if not ctx.past.search(norm):
        norm = _LEX.learner.read(norm)
    norm, suicide_denied = _cut(ctx.suicide_denial, norm)
    norm, denied = _cut(ctx.denial, norm)
    uncut = norm
    norm, joked = _cut(ctx.hyperbole, norm)
    words = tuple(w.strip("'-") for w in _WORD.findall(norm))
    if joked or lemmas is None:  # (given lemmas still hold a cut figure of speech)
        lemmas = [_LEX.fallback.get(w, w) for w in words]
    lemma_list = [lem.lower() for lem in lemmas]
    return _Message(norm, words, " ".join(lemma_list), _lemma_set(words, lemma_list),
                    denied, suicide_denied, joked, uncut)


def _read(m: _Message) -> _Reading:
    ctx, norm = _LEX.context, m.norm
    without_neg = ctx.negation.sub(" ", norm)
    # "nå er jeg 34", "nå bor jeg alene": a "nå" that contrasts with the past is no present cue.
    present_text = ctx.calm_now.sub(" ", without_neg)
    past_hit = ctx.past.search(norm)
    recent = bool(ctx.recent_past.search(norm))
    date = past_hit or recent
    strong = ctx.present.search(present_text) or any(
        c.urgent.search(without_neg) for c in _LEX.categories.values())
    ongoing = ctx.ongoing.search(without_neg)
    # How witnessed violence affects a child ("barna hører når han slår, hva gjør det med dem?")
    # is a question about the harm, not a report of danger now.
    question = ctx.question.search(norm) or (ctx.impact.search(norm)
                                             and ctx.witnessed.search(norm))
    if not ongoing and past_hit:
        ongoing = _weak_cue_in_danger_clause(ctx.ongoing_weak, without_neg)
    past = not ongoing and past_hit
    if strong or not ctx.present_now:
        present = strong
    # A bare "nå" lifts past, a question or a benign reading ("har ny jobb nå, får lønn hver
    # måned") only where it names danger.
    elif past or question or ctx.benign.search(norm):
        present = _weak_cue_in_danger_clause(ctx.present_now, present_text)
    else:
        present = ctx.present_now.search(present_text)
    suppressed = not present and (past or question)
    # A young writer asking about their own situation ("e det normalt at pappa kaster ting på meg?
    # e 15", or naming "pappa" as a child does) is a child at risk however it is phrased: a
    # question does not suppress `child`.
    young_self = (
        suppressed
        and not past
        and (_cue_hit(_LEX.cues["young"], present_text, m.lemma_set)
             or (_cue_hit(_LEX.cues["child_voice"], present_text, frozenset())
                 and not _cue_hit(_LEX.cues["adult_voice"], norm, frozenset())))
        and _cue_hit(_LEX.cues["me_object"], present_text, frozenset())
    )
    habitual = not present and ctx.habitual.search(norm)
    # A young writer keeps the danger: a child strangled yesterday is still at risk at home.
    dated = (bool(date) and not present and not ctx.again.search(norm)
             and not _cue_hit(_LEX.cues["young"], present_text, m.lemma_set))
    personal = (suppressed and not past
                and _cue_hit(_LEX.cues["me_subjected"], present_text, frozenset()))
    return _Reading(present_text, present, suppressed, habitual, young_self, dated, recent,
                    personal)


def _hit(cat: Category, m: _Message, r: _Reading) -> bool:
    return _hit_undescribed(cat, m, r) or (not r.habitual and cat.descriptive.search(m.norm))


def _hit_undescribed(cat: Category, m: _Message, r: _Reading) -> bool:
    """A strong hit by anything but a `descriptive` pattern."""
    return (
        cat.text.search(m.norm)
        or (not r.dated and cat.dated.search(m.norm))
        or cat.lemma.search(m.lemma_str)
        or any(all(_cue_hit(_LEX.cues[c], r.present_text, m.lemma_set) for c in combo)
               for combo in cat.combos)
    )


def _signs(cat: Category, m: _Message) -> bool:
    """Whether at least `signs_min` different warning signs of `cat` are there (read in the whole
    message: "orker ikke lenger" is a sign, not a negation)."""
    if not cat.signs:
        return False
    hits = sum(bool(_cue_hit(_LEX.cues[c], m.norm, m.lemma_set)) for c in cat.signs)
    return hits >= cat.signs_min


def _described(cat: Category, m: _Message, r: _Reading) -> bool:
    """Whether only a `descriptive` pattern found `cat`, with nothing present."""
    return (
        not r.present
        and not cat.urgent.search(m.norm)
        and not _hit_undescribed(cat, m, r)
        and bool(cat.descriptive.search(m.norm))
    )


Implying = list[tuple[str, tuple[str, ...]]]


def _idiom_only(m: _Message, r: _Reading) -> frozenset[str]:
    """The categories only a conditional threat found ("mamma dreper meg hvis hun ser det"),
    which most people mean as a figure of speech: weak, so the classifier decides and a rule hit
    is never silent. Not when danger is present or `idiom_real` reads a real threat."""
    ctx = _LEX.context
    if r.present or not ctx.idiom_threat.search(m.norm) or ctx.idiom_real.search(m.norm):
        return frozenset()
    rest = _message(ctx.idiom_threat.sub(" ", m.norm), None)
    rest_reading = _read(rest)
    return frozenset(name for name, cat in _LEX.categories.items()
                     if _hit(cat, m, r) and not _hit(cat, rest, rest_reading))


def _match(m: _Message, r: _Reading) -> tuple[list[str], list[str], list[str], Implying, Implying]:
    """The categories found (in priority order), those found only by a weak pattern, those the
    context set aside (past or a general question), those whose `implied_by` cue is there
    without the implying category (a child in the room; the classifier may find the danger), and
    those whose `scored` cue is there (decided with the classifier's score)."""
    found: list[str] = []
    weak: list[str] = []
    framed: list[str] = []
    idiom_only = _idiom_only(m, r)
    for name, cat in _LEX.categories.items():
        if cat.urgent.search(m.norm):
            found.append(name)
            continue
        signs = _signs(cat, m)
        strong = (_hit(cat, m, r) or (signs and not cat.signs_weak)) and name not in idiom_only
        if not strong and r.dated and cat.dated.search(m.norm):  # "rundt halsen i går"
            framed.append(name)  # (also when a broad word matched: "kvelertak")
            continue
        if not strong and not (name in idiom_only or signs or cat.weak.search(m.norm)
                               or cat.weak_lemma.search(m.lemma_str)):
            continue
        if r.suppressed and not (r.young_self and name == "child"):
            framed.append(name)
            continue
        found.append(name)
        if not strong:
            weak.append(name)
    cued: Implying = []
    leaning: Implying = []
    for name, cat in _LEX.categories.items():
        if name in found:
            continue
        hits = [i for i in cat.implied if _cue_hit(_LEX.cues[i.cue], r.present_text, m.lemma_set)
                and not (i.unless and _cue_hit(_LEX.cues[i.unless], m.norm, m.lemma_set))]
        by = tuple(dict.fromkeys(c for i in hits if not i.scored for c in i.categories))
        scored = tuple(dict.fromkeys(c for i in hits if i.scored for c in i.categories))
        if any(c in found and c not in weak for c in by):
            found.append(name)
            continue
        if by:
            cued.append((name, by))
        if scored:
            leaning.append((name, scored))
    found.sort(key=CATEGORIES.index)
    return found, weak, [c for c in framed if c not in found], cued, leaning


def _calm(found: Sequence[str], m: _Message, r: _Reading) -> tuple[bool, tuple[str, ...]]:
    """Whether only negated danger was found, and the categories the context argues against."""
    ctx = _LEX.context
    negation_hit = ctx.negation.search(m.norm)
    negated = bool(found) and "suicide" not in found and not r.present and negation_hit
    if r.present:
        return negated, ()
    if r.suppressed or (not found and (m.joked or ctx.benign.search(m.norm))):
        return negated, tuple(c for c in CATEGORIES if not (r.young_self and c == "child"))
    adult = (
        "child" not in found
        and ctx.adult.search(m.norm)
        and not _cue_hit(_LEX.cues["young"], r.present_text, m.lemma_set)
    )
    return negated, tuple(
        c
        for c in CATEGORIES
        if (r.habitual and bool(_LEX.categories[c].descriptive))
        or (c != "suicide" and (negation_hit or m.denied))
        or (c == "suicide" and m.suicide_denied)
        or (c == "child" and adult)
    )


def detect(text: str, lemmas: Sequence[str] | None = None) -> Crisis:
    """Find crisis categories in one user message.

    ``lemmas`` are the lower-case lemmas of ``text`` from our spaCy pipeline; without them a small
    form -> lemma map from the lexicon is applied to the words of the text.
    """
    message = _message(text, lemmas)
    reading = _read(message)
    found, weak, framed, cued, leaning = _match(message, reading)
    negated, calm = _calm(found, message, reading)
    if reading.dated:  # what a date set aside, the classifier alone does not raise either
        calm = tuple(c for c in CATEGORIES if c in calm or c in framed)
    ctx = _LEX.context
    unreal = ctx.unreal.search(message.uncut) and not ctx.real_harm.search(message.norm)
    # Set aside and over ("er 40 nå", "jeg er trygg nå"), or unreal (school work, a film): no
    # safety line.
    if (unreal or message.denied or ctx.negation.search(message.norm)
            or ctx.calm_now.search(message.norm)):
        framed = []
    described = tuple(c for c in found if c not in weak
                      and _described(_LEX.categories[c], message, reading))
    return Crisis(tuple(found), negated, _language(message.words), calm, unreal, tuple(weak),
                  tuple(framed), tuple(cued), tuple(leaning), reading.recent,
                  personal=reading.personal, described=described)
