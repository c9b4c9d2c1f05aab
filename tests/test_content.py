"""Walks every answer the bot can give: placeholders resolve, every reply offers VO-linjen,
every phone number shown is in the registry (other figures only where sources.yml names their
seed), and no number is typed outside it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot import content, nlg, registry
from bot.crisis_contract import (
    CATEGORIES,
    EVALUATED,
    FALLBACK_INTENT,
    INTENT_PREFIX,
    RESPONSE_PREFIX,
)

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = content.domain()
RESPONSES: dict[str, list[dict[str, Any]]] = DOMAIN["responses"]
INTENTS = set(DOMAIN["intents"]) | {FALLBACK_INTENT}
SOURCES = yaml.safe_load((ROOT / "data" / "content" / "sources.yml").read_text(encoding="utf-8"))
FIGURES: dict[str, dict[str, str]] = SOURCES.get("figures") or {}
SEEDS = ROOT.parent / "shared" / "seeds"
NUMBER_RE = re.compile(r"(?<![\d.])(?:\+47 ?)?\d(?:[ ]?\d){2,10}(?![\d])")
INFO = tuple(n for n in RESPONSES if n.startswith(nlg.INFO_PREFIXES))


def variations() -> list[tuple[str, int, dict[str, Any]]]:
    return [(name, i, v) for name, vs in RESPONSES.items() for i, v in enumerate(vs)]


def rendered(name: str, variation: dict[str, Any]) -> tuple[str, list[dict[str, str]]]:
    gen = nlg.RegistryNLG()
    text, emergency = nlg.compose(name, variation.get("text", ""), {}, False)
    out = gen.render(variation, text, emergency)
    return out["text"], out.get("buttons", [])


def shown_numbers(text: str) -> set[str]:
    return {re.sub(r"\D", "", m).removeprefix("47") if m.startswith("+") else re.sub(r"\D", "", m)
            for m in NUMBER_RE.findall(text)}


@pytest.mark.parametrize(("name", "i", "variation"), variations(),
                         ids=[f"{n}[{i}]" for n, i, _ in variations()])
def test_every_response_renders_with_registry_numbers_only(
    name: str, i: int, variation: dict[str, Any]
) -> None:
    text, buttons = rendered(name, variation)
    assert "[[" not in text
    numbers = registry.load().numbers()
    figures = set(FIGURES.get(name, {}))  # counts from a seed, e.g. "1600–2000 voksne"
    assert shown_numbers(text) <= numbers | figures, f"{name}: numbers not in the registry"
    for btn in buttons:
        payload = btn["payload"]
        if payload.startswith("tel:"):
            assert payload[4:] in numbers
        else:
            assert payload.startswith("/") and payload[1:].split("{")[0] in INTENTS, payload


@pytest.mark.parametrize("name", INFO)
def test_informational_answers_offer_vo_linjen_and_stay_short(name: str) -> None:
    vo = registry.load()["vo_linjen"].phone_display
    for variation in RESPONSES[name]:
        text, _ = rendered(name, variation)
        assert "VO-linjen" in text and vo in text
        words = len(registry.load().render(variation["text"]).split())
        assert words <= 80, f"{name}: {words} words"


VO = registry.load()["vo_linjen"]
# Replies that need not name VO-linjen themselves, and why (checked by
# test_safety_check_follows_a_reply_that_offers_vo_linjen): utter_check_safe ("Er du trygg akkurat
# nå?") is sent only right after a crisis reply that names it; utter_not_safe answers "nei" to
# that question or to the maybe tier's, whose reply names it.
FOLLOWS_VO = {"utter_check_safe", "utter_not_safe"}


def offers_vo_linjen(text: str, buttons: list[dict[str, str]]) -> bool:
    """The text names VO-linjen with its number, or a button calls it (`tel:[[vo_linjen.tel]]`)."""
    return ("VO-linjen" in text and str(VO.phone_display) in text) or any(
        b["payload"] == f"tel:{VO.phone}" for b in buttons)


@pytest.mark.parametrize(("name", "i", "variation"),
                         [v for v in variations() if v[0] not in FOLLOWS_VO],
                         ids=[f"{n}[{i}]" for n, i, _ in variations() if n not in FOLLOWS_VO])
def test_every_reply_offers_vo_linjen(name: str, i: int, variation: dict[str, Any]) -> None:
    assert offers_vo_linjen(*rendered(name, variation)), (
        f"{name}[{i}] does not offer VO-linjen: add [[vo_linjen]] or a tel:[[vo_linjen.tel]] button"
    )


@pytest.mark.parametrize("category", [k for k in nlg.blocks()["crisis_en"] if k != "check_safe"])
def test_english_crisis_replies_offer_vo_linjen(category: str) -> None:
    # A category without a response of its own (crisis_lead) goes the acute path.
    name = RESPONSE_PREFIX + category if RESPONSE_PREFIX + category in RESPONSES \
        else RESPONSE_PREFIX + "acute"
    text, emergency = nlg.compose(name, RESPONSES[name][0]["text"],
                                  {"lang": "en", "categories": [category]}, False)
    assert emergency and offers_vo_linjen(registry.load().render(text), [])


def test_the_domains_crisis_intents_and_replies_are_the_contracts_categories() -> None:
    """Each crisis intent `crisis_<category>` has its reply `utter_crisis_<category>`, and every
    category is one of bot/crisis_contract.py's (harm_others takes acute's intent and reply)."""
    intents = {i.removeprefix(INTENT_PREFIX) for i in INTENTS if i.startswith(INTENT_PREFIX)}
    replies = {n.removeprefix(RESPONSE_PREFIX) for n in RESPONSES if n.startswith(RESPONSE_PREFIX)}
    assert intents and intents == replies and intents <= set(CATEGORIES)
    assert set(EVALUATED) <= set(CATEGORIES)


def test_safety_check_follows_a_reply_that_offers_vo_linjen() -> None:
    rules = [r for p in (ROOT / "data" / "rules").glob("*.yml")
             for r in yaml.safe_load(p.read_text(encoding="utf-8")).get("rules") or []]
    sent_after = []
    for rule in rules:
        steps = rule["steps"]
        for k, step in enumerate(steps):
            if step.get("action") == "utter_check_safe" and k > 0:  # k == 0: a rule's condition
                before = steps[k - 1].get("action")
                assert before, f"{rule['rule']}: utter_check_safe without a reply before it"
                for variation in RESPONSES[before]:
                    assert offers_vo_linjen(*rendered(before, variation)), before
                sent_after.append(before)
            if step.get("action") == "utter_not_safe":
                assert [s.get("action") or s.get("intent") for s in steps[k - 2 : k]] == [
                    "utter_check_safe", "deny"], rule["rule"]
    assert sent_after, "no rule sends utter_check_safe"
    # The maybe tier asks the same question; its reply is a response (offers VO-linjen, above)
    # or the fallback below, and "nei" to it becomes utter_not_safe (bot/nlg.py).
    assert nlg.SAFETY_ANSWERS["utter_deny"] == "utter_not_safe"
    for block in ("maybe", "maybe_en"):
        assert offers_vo_linjen(registry.load().render(nlg.blocks()[block]["fallback"]), [])
    text, _ = nlg.compose("utter_greet", RESPONSES["utter_greet"][0]["text"], {"maybe": ["acute"]},
                          False)
    assert offers_vo_linjen(registry.load().render(text), [])


def test_every_informational_intent_has_an_answer_and_a_rule() -> None:
    rules = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "data" / "rules").glob("*.yml"))
    info_intents = [n.removeprefix("utter_info_") for n in RESPONSES if n.startswith("utter_info_")]
    assert len(info_intents) >= 33
    for intent in info_intents:
        assert intent in INTENTS
        assert f"intent: {intent}\n" in rules
        assert f"utter_more_{intent}" in RESPONSES


def test_blocks_render() -> None:
    def walk(node: Any) -> list[str]:
        if isinstance(node, dict):
            return [s for v in node.values() for s in walk(v)]
        if isinstance(node, list):
            return [s for v in node for s in walk(v)]
        return [node] if isinstance(node, str) else []

    reg = registry.load()
    for text in walk(nlg.blocks()):
        if "{" in text:  # a format template: filled with a registry id by its user
            continue
        assert shown_numbers(reg.render(text)) <= reg.numbers()


def test_every_answer_has_a_source() -> None:
    sources = yaml.safe_load((ROOT / "data" / "content" / "sources.yml").read_text())["sources"]
    reg = registry.load()
    for name in INFO:
        assert sources.get(name), f"{name} has no source"
        for ref in sources[name]:
            if ref.startswith("page:"):
                assert (ROOT / "bot" / "static" / ref[5:]).is_file(), ref
            else:
                assert ref.startswith(("seed:", "facts:")) or ref in reg.resources, ref


def test_figures_are_in_their_seed_and_cited() -> None:
    """A figure shown in an answer (not a phone number) appears in the seed named for it, and
    that seed is among the answer's sources."""
    sources = SOURCES["sources"]
    assert FIGURES, "sources.yml lists no figures"
    for name, figures in FIGURES.items():
        assert name in RESPONSES, name
        for figure, ref in figures.items():
            assert ref in sources[name], f"{name}: {ref} is not among its sources"
            assert any(figure in shown_numbers(rendered(name, v)[0]) for v in RESPONSES[name]), (
                f"{name} does not show {figure}: remove it from figures")
            if not SEEDS.is_dir():
                pytest.skip(f"{SEEDS} is not here")
            (seed,) = SEEDS.glob(ref.removeprefix("seed:") + "_*.txt")
            assert figure in re.findall(r"\d+", seed.read_text(encoding="utf-8")), (name, ref)


def _number_patterns() -> list[re.Pattern[str]]:
    pats = []
    for digits in registry.load().numbers():
        spaced = r"[ .-]?".join(re.escape(d) for d in digits)
        pats.append(re.compile(rf"(?<![\d\w]){spaced}(?![\d])"))
    return pats


SCANNED = [
    *content.domain_files(),
    *(ROOT / "data" / "content").glob("*.yml"), *(ROOT / "data" / "redaction").glob("*.yml"),
    *(ROOT / "data" / "rules").glob("*.yml"), *(ROOT / "data" / "stories").glob("*.yml"),
    *(ROOT / "actions").glob("*.py"), *(ROOT / "bot").rglob("*.py"),
    *(ROOT / "bot" / "static").glob("*.*"),
]


@pytest.mark.parametrize("path", SCANNED, ids=[str(p.relative_to(ROOT)) for p in SCANNED])
def test_no_number_typed_outside_the_registry(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for pat in _number_patterns():
        hit = pat.search(text)
        assert hit is None, f"{path.name} types {hit.group(0)!r}: use a [[id]] placeholder"


def test_button_payloads_are_sent_as_written_without_template_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Slot templating must not touch JSON in button payloads (Rasa logged a traceback for each
    one on every answer)."""
    import asyncio

    from rasa.core.nlg import interpolator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    errors: list[Any] = []

    class Recorder:
        def exception(self, *args: Any, **kwargs: Any) -> None:
            errors.append((args, kwargs))

    monkeypatch.setattr(interpolator, "structlogger", Recorder())
    domain = Domain.load(str(content.DOMAIN_PATH))
    tracker = DialogueStateTracker.from_events("nlg-test", [], slots=domain.slots)
    out = asyncio.run(nlg.RegistryNLG(domain=domain).generate(
        "utter_ask_audience", tracker, "rest"))
    want = [b["payload"] for b in RESPONSES["utter_ask_audience"][0]["buttons"]]
    assert out is not None and [b["payload"] for b in out["buttons"]] == want
    assert any("{" in p for p in want) and not errors
