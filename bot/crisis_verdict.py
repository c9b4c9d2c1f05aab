"""How the crisis layer decides: joins the rule layer's finding (`bot/crisis.py`) with the
classifier's scores (`bot/crisis_model.py`) into the categories a crisis reply covers and the
categories that get the maybe tier's safety line. It runs at parse time only and is not a model
input: changing how the two layers are joined needs no retraining.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.crisis import Crisis
from bot.crisis_contract import CATEGORIES


@dataclass(frozen=True)
class Verdict:
    """What the crisis layer decides for one message."""

    categories: tuple[str, ...]  # a crisis reply covers these, in priority order
    maybe: tuple[str, ...]  # unsure: the reply leads with a safety line for these
    negated: bool  # only negated danger: lower urgency, numbers still shown


def decide(
    found: Crisis,
    scores: dict[str, float],
    high: dict[str, float],
    maybe: float,
    confirm: float = 0.0,
    sure: float = 1.01,
    may_raise: bool = True,
) -> Verdict:
    """Join the rule layer's finding with the classifier's scores.

    The rules are the net: a category they found stands whatever the classifier says, except a
    category found only by a `weak` pattern (a broad word such as "kniven" or "orker ikke mer"),
    which needs the classifier's `confirm` score and otherwise goes to the maybe tier: a rule hit
    is never silent. A rule hit the context set aside (`found.framed`: past or a general
    question, "på hvilken side av halsen ligger pulsåra?") goes to the maybe tier for the same
    reason. Framed as unreal (a joke, dream, film, game, sport, school work), a rule hit needs
    the classifier's `high` score (not `sure`: "lol jeg vil bare dø, pappa kastet meg ut" is a
    child in crisis), goes to the maybe tier from `maybe`, and is dropped below. The classifier
    adds a category at or above its `high` threshold, unless the rules' reading of the context
    argues against it (past, general question, negated, an adult's age, or the unreal framing)
    and the classifier is not `sure`: then, and for any score at or above `maybe`, the category
    goes to the maybe tier. Last, a category the rules' cues imply (`found.implied`: a child in
    the room, a method under way) joins when an implying category was found by either layer;
    one they only suggest (`found.leaning`: a child named in a crisis message) joins when the
    classifier's own score for it reaches `maybe` too. Such a category adds one line to a crisis
    reply that is given anyway, so the bar is lower than for raising a crisis. With `may_raise`
    off (the message answers the bot's own question: "det er for meg selv"), a category only the
    classifier found goes to the maybe tier at most.
    """
    categories: list[str] = []
    unsure: list[str] = []
    for category in found.categories:
        score = scores.get(category, 1.0)
        if found.unreal:
            if score >= high.get(category, 1.0):
                categories.append(category)
            elif score >= maybe:
                unsure.append(category)
        elif category not in found.weak or score >= confirm:
            categories.append(category)
        else:
            unsure.append(category)
    for category in CATEGORIES:
        if category in categories or category in unsure:
            continue
        score = scores.get(category, 0.0)
        doubted = category in found.calm or found.unreal  # context or framing argues against it
        if may_raise and score >= high.get(category, 1.0) and (not doubted or score >= sure):
            categories.append(category)
        elif category in found.framed:
            unsure.append(category)
        elif maybe <= score and high.get(category, 1.0) <= 1.0 and category not in found.categories:
            unsure.append(category)  # (a category the classifier may never raise has no maybe)
    for category, by in found.implied:  # in priority order: acute (by suicide) before child
        doubted = category in found.calm or found.unreal
        if category not in categories and not doubted and any(b in categories for b in by):
            categories.append(category)
        elif category not in unsure and not doubted and any(b in unsure for b in by):
            unsure.append(category)  # the danger itself is unsure ("kniven" and "barna")
    for category, by in found.leaning:
        doubted = category in found.calm or found.unreal
        if (category not in categories and not doubted and scores.get(category, 0.0) >= maybe
                and any(b in categories for b in by)):
            categories.append(category)
    categories.sort(key=CATEGORIES.index)
    unsure = sorted((c for c in unsure if c not in categories), key=CATEGORIES.index)
    negated = found.negated and set(categories) <= set(found.categories)
    return Verdict(tuple(categories), tuple(unsure), negated)
