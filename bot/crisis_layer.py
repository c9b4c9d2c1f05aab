"""What the crisis layer does with one parsed message: joins the rule layer (`bot/crisis.py`), the
classifier's scores (`bot/crisis_model.py`) and the NLU's intent ranking into the crisis flags of
the parse and, for a crisis, the new top intent. `bot/components.py` (the Rasa component, a model
input) only gathers the inputs and applies the outcome; the decision lives here, at parse time,
so changing it needs no retraining, and `bench.crisis_replay` can run it again over recorded
inputs in seconds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot import crisis, crisis_verdict
from bot.crisis_contract import CATEGORIES, FALLBACK_INTENT, INTENT_PREFIX

# Categories without a dialogue path of their own take another's intent; the NLG gives them
# their own text (data/content/blocks.yml crisis_lead).
INTENT_OF = {"harm_others": "acute"}

# The component's settings (config.yml overrides them; the calibration is in docs/crisis.md).
DEFAULTS: dict[str, Any] = {
    # Per-category probability from which the classifier alone raises a crisis
    # (calibrated with `python -m bench.crisis_calibrate` on the development sets).
    "high": {c: 0.5 for c in CATEGORIES},
    # From here up, an unsure category gets the maybe tier's safety line.
    "maybe": 0.3,
    # Below this, a (non-urgent) rule hit goes to the maybe tier instead of a crisis.
    "confirm": 0.0,
    # From here up, the classifier overrides the rules' context (past, question, adult).
    "sure": 1.01,
    # After a fallback, or an answer the NLU is unsure of (below `unsure_below`), a category this
    # likely is a risk cue: the maybe tier again ("det skjedde igjen i natt").
    "fallback_cue": 0.15,
    "unsure_below": 0.45,
    # An info intent this confident in DIET's ranking is answered after a crisis reply.
    "question_threshold": 0.3,
    # The classifier abstains on shorter messages ("mer", "hæ"); the rules still hold.
    "min_words": 4,
    # When DIET is this sure of a non-crisis intent (a calm question), a category only the
    # classifier found needs `info_high` (0.85 in the fourteenth session, when training on sets O to
    # W raised its scores on calm questions; back to 0.8 in the fifteenth, when the NLU trained on
    # 1 026 more lines from new voices grew surer of calm questions: docs/crisis.md).
    "info_confident": 0.6,
    "info_high": 0.8,
    # Answers to the bot's own question ("det er for meg selv" to "who is it about?"): when the
    # NLU is this sure (`info_confident`) of one, the classifier alone raises only the maybe
    # tier. Their words are a closed class the crisis corpus uses in other senses ("spør for meg
    # selv" after a question about pills).
    "answers": [],
    # As FallbackClassifier's: a demoted crisis intent's successor needs this much.
    "fallback_threshold": 0.45,
    # The classifier's regularisation (a training setting, read by the component).
    "c": 4.0,
}


@dataclass(frozen=True)
class Settings:
    high: dict[str, float]
    maybe: float
    confirm: float
    sure: float
    fallback_cue: float
    unsure_below: float
    question_threshold: float
    fallback_threshold: float
    min_words: int
    info_confident: float
    info_high: dict[str, float]
    answers: frozenset[str]

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        config = {**DEFAULTS, **config}
        high = {c: float(config["high"].get(c, 1.0)) for c in CATEGORIES}
        return cls(
            high=high,
            maybe=float(config["maybe"]),
            confirm=float(config["confirm"]),
            sure=float(config["sure"]),
            fallback_cue=float(config["fallback_cue"]),
            unsure_below=float(config["unsure_below"]),
            question_threshold=float(config["question_threshold"]),
            fallback_threshold=float(config["fallback_threshold"]),
            min_words=int(config["min_words"]),
            info_confident=float(config["info_confident"]),
            info_high={c: max(v, float(config["info_high"])) for c, v in high.items()},
            answers=frozenset(config["answers"]),
        )


@dataclass(frozen=True)
class Inputs:
    """What the layer sees of one message (all of it plain data, so it can be recorded)."""

    text: str
    lemmas: list[str] | None  # from the NLU's tokens; None when the text had placeholders
    scores: dict[str, float]  # the classifier's, per category ({} when it is not trained)
    intent: dict[str, Any]  # the NLU's top intent {name, confidence}
    ranking: list[dict[str, Any]]  # the NLU's whole ranking, best first


@dataclass(frozen=True)
class Outcome:
    """The crisis flags (`parse_data["crisis"]`, None: nothing to say) and, when the layer
    changes it, the new top intent and ranking."""

    info: dict[str, Any] | None = None
    intent: dict[str, Any] | None = None
    ranking: list[dict[str, Any]] | None = None


def _name(entry: Mapping[str, Any]) -> str:
    return str(entry.get("name") or "")


def _is_crisis(entry: Mapping[str, Any]) -> bool:
    return _name(entry).startswith(INTENT_PREFIX)


def best_other(ranking: Sequence[Mapping[str, Any]]) -> tuple[str, float]:
    """DIET's best intent that is neither a crisis nor the fallback, and its confidence."""
    others = [(float(r.get("confidence", 0.0)), _name(r)) for r in ranking
              if not _is_crisis(r) and _name(r) != FALLBACK_INTENT]
    confidence, name = max(others, default=(0.0, ""))
    return name, confidence


def question(ranking: Sequence[Mapping[str, Any]], threshold: float) -> str | None:
    """The info intent DIET is confident about besides any crisis intent."""
    for candidate in ranking:
        if _is_crisis(candidate) or _name(candidate) == FALLBACK_INTENT:
            continue
        return _name(candidate) if candidate.get("confidence", 0.0) >= threshold else None
    return None


def demoted(ranking: Sequence[dict[str, Any]], threshold: float
            ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A crisis intent the layer does not confirm gives way to the best other intent, or to the
    fallback when that one is not confident enough: the new top intent and ranking."""
    rest = [r for r in ranking if not _is_crisis(r) and _name(r) != FALLBACK_INTENT]
    crisis_ranked = [r for r in ranking if r not in rest]
    if rest and rest[0].get("confidence", 0.0) >= threshold:
        top = dict(rest[0])
    else:
        top = {"name": FALLBACK_INTENT, "confidence": 1.0}
    return top, [top, *rest, *crisis_ranked]


def judge(inputs: Inputs, settings: Settings) -> Outcome:
    """The crisis layer's decision for one message."""
    s = settings
    found = crisis.detect(inputs.text, inputs.lemmas)
    scores = inputs.scores
    ranking = inputs.ranking
    top_name = _name(inputs.intent)
    other, confidence = best_other(ranking)
    calm_question = confidence >= s.info_confident
    high = s.info_high if calm_question else s.high
    # A set-aside hit in a question DIET knows ("hva er menneskehandel?"), unless the message
    # reports a recent event or asks about what was done to the writer.
    if calm_question and not (found.recent or found.personal):
        found = dataclasses.replace(found, framed=())
    # Violence described in a question the NLU knows well, nothing present ("kjæresten min slår
    # meg, er det vold?"): the maybe tier's safety line and the answer; the classifier may still
    # raise it (`info_high`).
    if calm_question and found.described:
        kept = tuple(c for c in found.categories if c not in found.described)
        framed = tuple(c for c in CATEGORIES if c in found.framed or c in found.described)
        found = dataclasses.replace(found, categories=kept, framed=framed)
    answer = calm_question and other in s.answers
    verdict = crisis_verdict.decide(found, scores, high, s.maybe, s.confirm, s.sure,
                                    may_raise=not answer)
    maybe = list(verdict.maybe)
    new_intent: dict[str, Any] | None = None
    new_ranking: list[dict[str, Any]] | None = None

    if not verdict.categories:
        top_confidence = float(inputs.intent.get("confidence") or 0.0)
        if top_name.startswith(INTENT_PREFIX):  # DIET alone says crisis: demote it
            category = top_name[len(INTENT_PREFIX):]
            if category in CATEGORIES and category not in found.calm and not found.unreal:
                maybe.append(category)
            new_intent, new_ranking = demoted(ranking, s.fallback_threshold)
            top_name = _name(new_intent)
            top_confidence = float(new_intent.get("confidence") or 0.0)
        unsure = top_name == FALLBACK_INTENT or top_confidence < s.unsure_below
        # A joke, game, film or sport is no risk cue on its own ("killed so many zombies").
        if unsure and not maybe and scores and not found.unreal:
            best = max(scores, key=scores.__getitem__)
            if scores[best] >= s.fallback_cue:
                # A weak cue names no one's age: the emergency line fits a child too, the child
                # line does not fit an adult.
                maybe.append("acute" if best == "child" else best)
    maybe = sorted(set(maybe) - set(verdict.categories), key=CATEGORIES.index)
    if not verdict.categories and not maybe:
        return Outcome(None, new_intent, new_ranking)
    info: dict[str, Any] = {
        "categories": list(verdict.categories),
        "negated": verdict.negated,
        "lang": found.lang,
    }
    if maybe:
        info["maybe"] = maybe
    asked = question(ranking, s.question_threshold)
    if asked and verdict.categories:
        info["question"] = asked
    if not verdict.categories or verdict.negated:
        return Outcome(info, new_intent, new_ranking)
    # DIET's best-ranked crisis intent leads when it is one of the categories (it knows which is
    # the person's main danger: "jeg er 12 og pappa slår meg" is a child at risk first); the reply
    # covers every category either way.
    # A category that only joined through a cue the classifier leant towards (a worker's setting
    # in a suicide message) adds its line but does not lead.
    joined = {c for c, _ in found.leaning
              if c not in found.categories and scores.get(c, 0.0) < high.get(c, 1.0)}
    leading = [c for c in verdict.categories if c not in joined] or list(verdict.categories)
    ranked = [_name(r)[len(INTENT_PREFIX):] for r in ranking if _is_crisis(r)]
    first = next((c for c in ranked if c in leading), leading[0])
    if "harm_others" in verdict.categories:  # the writer may hurt someone: that leads
        first = "harm_others"
    info["categories"] = [first, *(c for c in verdict.categories if c != first)]
    top = {"name": INTENT_PREFIX + INTENT_OF.get(first, first), "confidence": 1.0}
    return Outcome(info, top, [top, *(r for r in ranking if _name(r) != top["name"])])
