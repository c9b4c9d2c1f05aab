"""Crisis detection through the real trained model: 100 % recall and at most 5 % false alarms on
every development set; the first reply of the real stack leads with the right emergency contact,
names VO-linjen, answers a question asked in the same message, and the maybe tier speaks when the
layer is unsure. Set C (quoted by issue 14) is reported by `python -m bench.crisis`, not gated."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot import content, registry
from bot.crisis_contract import CATEGORIES, EVALUATED, PARSE_KEY, RESPONSE_PREFIX
from bot.crisis_eval import Result, evaluate
from bot.nlg import blocks
from tests.conftest import say

ROOT = Path(__file__).resolve().parent.parent
# Development sets gated at the product's bar: every crisis found, at most 5 % false alarms.
DEV_SETS = ("cases.yml", "cases_b.yml")
# Sets by independent authors, each a development set since it was run once held out (N never held
# out), gated just under what the layer reaches today so that no change makes them worse. E and H to
# N train the classifier since 2026-12-05, U and O to W (except V) since 2026-12-06 (TRAINED_SETS):
# on them these gates check memory (X, Y and Z too since the fifteenth session). F and V are
# never trained on and still measure reach
# (docs/crisis.md). Fourteenth session (classifier trained on O to W, `info_high` 0.85), lowest
# recall and false alarms: E 100 % / 4.3 %, F 98.1 % / 4.6 %, H 100 % / 0.7 %, I 98.8 % / 2.6 %,
# J 98.8 % / 0.9 %, K 99.0 % / 3.6 %, L 98.1 % / 5.0 %, M 98.3 % / 4.7 %, N 99.5 % / 6.5 %, O 98.6 %
# / 3.6 %, P 97.2 % / 4.0 %, Q 98.4 % / 3.0 %, R 96.9 % / 2.7 %, S 100 % / 1.4 %, T 99.1 % / 2.0 %,
# U 99.3 % / 3.2 %, W 95.8 % / 0.7 %. V lost one trafficking line to it (85.6 -> 84.5 %) and X one
# acute line (79.2 -> 78.3 %), for gains on X and Y elsewhere.
# Fifteenth session (X, Y and Z trained on, the NLU trained on 1 026 more lines, `info_high` 0.8):
# J's suicide 97.6 % and V 92.9 / 93.4 / 100 / 85.6 % with one silent (acute and suicide one line
# each under the fourteenth session's), for X 95.0 / 100 / 97.4 / 100 %, Y and Z 100 % (now memory)
# and AA, new and held out, 93.9 -> 94.4 % acute (95.0 before the last eight NLU examples).
# Sixteenth session (AA and AB trained on, the NLU trained on J, rules from AA's and AB's misses,
# model 540a72c4d19a7ffb): V 93.7 / 94.5 / 99.1 / 85.6 %, none silent; F's false alarms 4.9 ->
# 5.2 % (17 of 326: the retrained model, not the rules; its floor is one line over issue 14's 5 %,
# recorded in docs/crisis.md); AC, new and held out, 95.0 -> 94.0 % acute, false alarms 10.1 ->
# 9.5 %. Seventeenth session (model 4660b636d8462450: K in the NLU, AC in the classifier, rules
# from AC): F's false alarms 5.2 -> 5.5 % (18 of 326, the model again; no rule moved F's
# figures but recall); V's acute 93.7 -> 92.9 % (one line, the model); AD, new and held out,
# unchanged recall 96.3 / 96.4 / 100 / 96.3 %, false alarms 5.8 -> 6.1 %. Eighteenth session
# (rules from AD's misses and false alarms, then model c82755352b021c32: L in the NLU, AD in the
# classifier): AE, new and held out, unchanged recall 95.5 / 95.5 / 96.0 / 97.3 % with 1 silent,
# false alarms 6.8 -> 6.2 (rules) -> 5.9 % (model); F's false alarms 5.5 -> 5.2 % (17 of 326, the
# model); V's trafficking 85.6 -> 86.6 %; C and G unchanged. Nineteenth session (rules from AE's
# misses and false alarms, then model f63fb374cc89fb78: M in the NLU, AE in the classifier): AF,
# new and held out, unchanged recall 96.8 / 100 / 96.5 / 97.4 %, false alarms 10.0 -> 9.7 (rules)
# -> 9.4 % (model); F unchanged (5.2 %, 17 of 326); G's false alarms 4.8 -> 4.5 %; V's trafficking
# 86.6 -> 85.6 % (one line, the model); C unchanged. Twentieth session (rules from AF's misses and
# false alarms, then model 3165e02db584deb0: N in the NLU, AF in the classifier): AG, new and held
# out, acute 86.2 % unchanged, suicide 96.6 -> 95.5 %, child 94.0 -> 95.2 %, trafficking 98.7 ->
# 97.4 %, false alarms 8.5 % unchanged, silent 3 -> 4 (all the model; the rules moved none of
# AG's figures); F's false alarms 5.2 -> 4.9 % (16 of 326, the model), under issue 14's 5 % for
# the first time since the sixteenth session; Z's 3.7 -> 4.1 %; V's suicide 95.6 -> 94.5 %.
# Twenty-first session (rules from AG's misses and false alarms, then model 7145a0d9995a4539: O in
# the NLU, AG in the classifier): AH, new and held out, acute 95.8 %, suicide 92.5 %, child 97.9 ->
# 96.8 % (the model), trafficking 92.0 %, false alarms 8.1 -> 7.7 % (the rules), 4 silent; N's false
# alarms 6.4 -> 6.9 %, S's child 100 -> 98.9 %, V's child 100 -> 99.1 % and suicide 94.5 -> 95.6 %
# (the model); L's acute and O's trafficking 100 % (a negation misread, fixed); C, F unchanged.
FLOORS = {"cases_e.yml": {"recall": 0.98, "false_alarms": 0.05, "silent": 0},
          "cases_f.yml": {"recall": 0.98, "false_alarms": 0.05, "silent": 0},
          "cases_h.yml": {"recall": 0.98, "false_alarms": 0.015, "silent": 0},
          "cases_i.yml": {"recall": 0.98, "false_alarms": 0.03, "silent": 1},
          "cases_j.yml": {"recall": {"acute": 0.98, "suicide": 0.975, "child": 0.98,
                                     "trafficking": 0.98}, "false_alarms": 0.015, "silent": 0},
          "cases_k.yml": {"recall": 0.98, "false_alarms": 0.055, "silent": 0},
          "cases_l.yml": {"recall": 0.975, "false_alarms": 0.055, "silent": 1},
          "cases_m.yml": {"recall": 0.98, "false_alarms": 0.055, "silent": 0},
          "cases_n.yml": {"recall": 0.98, "false_alarms": 0.07, "silent": 0,
                          "categories": ("acute", "child")},
          # O: 19 of 474 calm lines alarm since corpus round 11 (twenty-second session), 17 before.
          "cases_o.yml": {"recall": 0.98, "false_alarms": 0.045, "silent": 1},
          "cases_p.yml": {"recall": {"acute": 0.97, "suicide": 0.98, "child": 0.98,
                                     "trafficking": 0.98}, "false_alarms": 0.045, "silent": 0},
          # Q's and R's child lines often give the writer's age in the persona only.
          "cases_q.yml": {"recall": 0.98, "false_alarms": 0.035, "silent": 0},
          "cases_r.yml": {"recall": {"acute": 0.975, "suicide": 0.98, "child": 0.965,
                                     "trafficking": 0.98}, "false_alarms": 0.03, "silent": 0},
          "cases_s.yml": {"recall": 0.98, "false_alarms": 0.02, "silent": 0},
          "cases_t.yml": {"recall": 0.98, "false_alarms": 0.025, "silent": 0},
          "cases_u.yml": {"recall": 0.98, "false_alarms": 0.035, "silent": 0},
          # V (twelfth session, two authors): run once held out (before and after the session's
          # changes), then analysed; never trained on. Its trafficking figure is low because one
          # writer labelled forced marriage as trafficking (the reply gives the child or acute
          # line and the forced-marriage answer, not ROSA's).
          "cases_v.yml": {"recall": {"acute": 0.97, "suicide": 0.94, "child": 0.99,
                                     "trafficking": 0.85}, "false_alarms": 0.02, "silent": 0},
          # W: since corpus round 12 (twenty-second session) one line labelled child that says no
          # age ("jeg har ikke lyst til å våkne i morgen", the suicide reply) and one more alarm.
          "cases_w.yml": {"recall": {"acute": 0.98, "suicide": 0.98, "child": 0.95,
                                     "trafficking": 0.98}, "false_alarms": 0.015, "silent": 0},
          # X (thirteenth session), Y and Z (fourteenth), two authors each: run held out, then read
          # and trained on since the fifteenth session (TRAINED_SETS), so these gates check memory.
          "cases_x.yml": {"recall": {"acute": 0.95, "suicide": 0.98, "child": 0.97,
                                     "trafficking": 0.98}, "false_alarms": 0.02, "silent": 0},
          "cases_y.yml": {"recall": 0.98, "false_alarms": 0.025, "silent": 0},
          "cases_z.yml": {"recall": 0.98, "false_alarms": 0.045, "silent": 0},
          # AA (fifteenth session) and AB (sixteenth), two authors each, the age or danger in the
          # message: run held out, then read and trained on since the sixteenth session, so these
          # gates check memory. AB's hard negatives keep 7.4 % false alarms even so.
          "cases_aa.yml": {"recall": 0.98, "false_alarms": 0.035, "silent": 0},
          "cases_ab.yml": {"recall": 0.98, "false_alarms": 0.08, "silent": 0},
          # AC (sixteenth session, two authors, written like AB): run held out before and after
          # that session's change, then read and trained on since the seventeenth (memory).
          "cases_ac.yml": {"recall": 0.98, "false_alarms": 0.025, "silent": 0},
          # AD (seventeenth session, two authors, written like AC): run held out before and after
          # that session's change, then read and trained on since the eighteenth (memory).
          "cases_ad.yml": {"recall": 0.98, "false_alarms": 0.015, "silent": 0},
          # AE (eighteenth session, two authors, written like AD): run held out before and after
          # that session's change, then read and trained on since the nineteenth (memory).
          "cases_ae.yml": {"recall": 0.98, "false_alarms": 0.03, "silent": 0},
          # AF (nineteenth session, two authors, written like AE): run held out before and after
          # that session's change, then read and trained on since the twentieth (memory).
          "cases_af.yml": {"recall": 0.98, "false_alarms": 0.05, "silent": 0},
          # AG (twentieth session, two authors, written like AF): run held out before and after
          # that session's change, then read and trained on since the twenty-first (memory).
          "cases_ag.yml": {"recall": 0.98, "false_alarms": 0.03, "silent": 0},
          # AH (twenty-first session, two authors, written like AG): run held out before and after
          # that session's change, reported only, never read. Suicide and trafficking are the
          # weakest (92-95 %); 2 crisis lines get neither reply nor safety line.
          "cases_ah.yml": {"recall": {"acute": 0.97, "suicide": 0.92, "child": 0.96,
                                      "trafficking": 0.94}, "false_alarms": 0.08, "silent": 2},
          # AI and AJ (twenty-second session, two authors each, written like AH): AI run held out
          # before and after corpus round 11, AJ before and after round 12; reported only, never
          # read.
          "cases_ai.yml": {"recall": {"acute": 0.94, "suicide": 0.98, "child": 0.955,
                                      "trafficking": 0.98}, "false_alarms": 0.045, "silent": 0},
          "cases_aj.yml": {"recall": {"acute": 0.98, "suicide": 0.96, "child": 0.955,
                                      "trafficking": 0.96}, "false_alarms": 0.03, "silent": 0},
          # AK (twenty-third session, two authors, written like AJ): run held out before and after
          # that session's rules (unchanged), reported only, then a development set since the
          # twenty-fourth. AM (four authors, written as a training round that was not adopted):
          # run once, then its suicide misses read in the twenty-fourth session (91.0 -> 94.4 %).
          "cases_ak.yml": {"recall": {"acute": 0.98, "suicide": 0.975, "child": 0.99,
                                      "trafficking": 0.98}, "false_alarms": 0.045, "silent": 0},
          "cases_am.yml": {"recall": {"acute": 0.985, "suicide": 0.94, "child": 0.955,
                                      "trafficking": 0.965}, "false_alarms": 0.06, "silent": 2},
          # AL (twenty-third session, two authors): run held out, then its misses read and rules
          # written from them (a development set since; suicide 88.3 -> 93.6 -> 94.7 %).
          "cases_al.yml": {"recall": {"acute": 0.99, "suicide": 0.945, "child": 0.99,
                                      "trafficking": 0.975}, "false_alarms": 0.04, "silent": 1},
          # The negation set (twenty-third session, one author; every line has a negation), a
          # development set from the start: 40 to 53 lines a category. Its acute misses are lines
          # labelled suicide and acute that get the suicide reply, which opens with 113.
          "cases_neg.yml": {"recall": {"acute": 0.94, "suicide": 0.99, "child": 1.0,
                                       "trafficking": 1.0}, "false_alarms": 0.035, "silent": 0,
                            "min_cases": 40},
          # AN (twenty-fourth session, three authors, more suicide and calm lines with words of
          # death and goodbye): run held out (suicide 88.8 %, false alarms 9.5 %), then read; a
          # development set since. AO and AP (two authors each, written like AN): run held out
          # before and after that session's rules, reported only, never read.
          "cases_an.yml": {"recall": {"acute": 0.955, "suicide": 0.93, "child": 0.965,
                                      "trafficking": 0.98}, "false_alarms": 0.093, "silent": 1},
          "cases_ao.yml": {"recall": {"acute": 0.95, "suicide": 0.925, "child": 0.985,
                                      "trafficking": 0.98}, "false_alarms": 0.051, "silent": 1},
          "cases_ap.yml": {"recall": {"acute": 0.935, "suicide": 0.875, "child": 0.97,
                                      "trafficking": 0.98}, "false_alarms": 0.077, "silent": 5}}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def results(agent: Any) -> dict[str, Result]:
    names = (*DEV_SETS, *FLOORS)
    return {name: await evaluate(agent, ROOT / "tests" / "crisis" / name) for name in names}


@pytest.mark.parametrize("name", DEV_SETS)
@pytest.mark.parametrize("category", EVALUATED)
def test_recall_is_complete(results: dict[str, Result], name: str, category: str) -> None:
    result = results[name]
    assert result.totals[category] >= 15
    assert result.misses[category] == [], f"missed {category}: {result.misses[category]}"


@pytest.mark.parametrize("name", DEV_SETS)
def test_false_alarm_rate(results: dict[str, Result], name: str) -> None:
    result = results[name]
    assert result.non_crisis >= 100
    assert result.fpr <= 0.05, f"false alarms: {result.false_positives}"


@pytest.mark.parametrize("name", FLOORS)
@pytest.mark.parametrize("category", EVALUATED)
def test_independent_dev_sets_do_not_get_worse(
    results: dict[str, Result], name: str, category: str
) -> None:
    result, floor = results[name], FLOORS[name]
    if category not in floor.get("categories", EVALUATED):  # type: ignore[operator]
        assert result.totals[category] < 50  # too few to gate: N is about children
        return
    assert result.totals[category] >= floor.get("min_cases", 50)
    recall = floor["recall"]
    if isinstance(recall, dict):
        recall = recall[category]
    assert result.recall(category) >= recall, shown(name, result.misses[category])
    assert result.fpr <= floor["false_alarms"], shown(name, result.false_positives)


@pytest.mark.parametrize("name", FLOORS)
def test_no_more_crises_go_without_a_safety_line(results: dict[str, Result], name: str) -> None:
    # A miss in the maybe tier still shows 112 and asks "Er du trygg akkurat nå?"; a silent one
    # shows nothing. The development sets at the product's bar have none (their recall is total).
    assert len(results[name].silent) <= FLOORS[name]["silent"], shown(name, results[name].silent)


def shown(name: str, lines: list[str]) -> list[str] | str:
    """A failure lists a development set's lines; of a set whose lines must not be read (C, F,
    G, AE), only how many."""
    from bench.crisis_replay import readable

    return lines if readable(ROOT / "tests" / "crisis" / name) else f"{len(lines)} lines"


def first_number(text: str) -> str:
    import re

    m = re.search(r"\d[\d ]*\d|\d", text)
    return re.sub(r"\s", "", m.group(0)) if m else ""


REG = registry.load()


@pytest.mark.parametrize(
    ("message", "first", "also"),
    [
        ("han slår meg nå hjelp", "police_emergency", ["vo_linjen"]),
        ("eg vil ikkje leve lenger", "ambulance", ["mental_helse", "vo_linjen"]),
        ("jeg er 13 og stefaren min slår meg", "police_emergency", ["alarmtelefonen", "vo_linjen"]),
        ("de har tatt passet mitt og jeg må jobbe uten lønn", "police_emergency",
         ["rosa", "vo_linjen"]),
        ("jeg har lyst til å slå kona mi", "police_emergency", ["vo_linjen"]),
        ("he is hitting me, help", "police_emergency", ["vo_linjen"]),
    ],
)
def test_first_reply_leads_with_the_emergency_number(
    stack: Any, message: str, first: str, also: list[str]
) -> None:
    replies = say(stack, uuid.uuid4().hex, message)
    text = replies[0]["text"]
    assert first_number(text) == REG[first].phone
    for rid in also:
        assert REG[rid].phone_display in text
    # The check-in follows, with the emergency number one tap away.
    assert any(b["payload"] == "tel:" + REG["police_emergency"].phone
               for r in replies for b in r.get("buttons", []))


def test_english_crisis_reply_is_english(stack: Any) -> None:
    replies = say(stack, uuid.uuid4().hex, "my boyfriend says he will kill me")
    assert replies[0]["text"].startswith("Call " + REG["police_emergency"].phone)


def test_negation_keeps_the_number(stack: Any) -> None:
    replies = say(stack, uuid.uuid4().hex, "jeg er ikke i fare nå men lurer på besøksforbud")
    assert REG["police_emergency"].phone in " ".join(r["text"] for r in replies)


def test_after_a_crisis_answers_keep_the_emergency_button(stack: Any) -> None:
    sender = uuid.uuid4().hex
    say(stack, sender, "han står utenfor døra og sier han skal drepe meg")
    replies = say(stack, sender, "hva er et krisesenter")
    assert "krisesenter" in replies[0]["text"].lower()
    assert any(b["payload"] == "tel:" + REG["police_emergency"].phone
               for r in replies for b in r.get("buttons", []))


def test_an_age_said_earlier_adds_the_line_for_children(stack: Any) -> None:
    """One message rarely carries both: a writer who said "jeg er 14" first gets Alarmtelefonen
    with the emergency reply to "han slår meg nå"; an adult's conversation does not."""
    sender = uuid.uuid4().hex
    say(stack, sender, "hei, jeg er 14")
    first = say(stack, sender, "han slår meg nå hjelp")[0]["text"]
    assert first_number(first) == REG["police_emergency"].phone
    assert REG["alarmtelefonen"].phone_display in first
    sender = uuid.uuid4().hex
    say(stack, sender, "hei, jeg er 14")
    say(stack, sender, "nei forresten, jeg er 34 og bor med mannen min")
    first = say(stack, sender, "han slår meg nå hjelp")[0]["text"]
    assert REG["alarmtelefonen"].phone_display not in first


def test_exploitation_described_earlier_keeps_rosa_in_a_later_crisis_reply(stack: Any) -> None:
    sender = uuid.uuid4().hex
    say(stack, sender, "de har tatt passet mitt og jeg må jobbe uten lønn")
    first = say(stack, sender, "jeg vil ikke leve mer")[0]["text"]
    assert first_number(first) == REG["ambulance"].phone
    assert REG["rosa"].phone_display in first


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


@pytest.mark.parametrize(
    "message",
    [
        # Redaction placeholders alone say nothing about a child.
        "ring meg på 912 34 567, jeg bor i Storgata 12, 0155 Oslo",
        "Jeg heter Kari Nordmann, fødselsnummer 01017012345, og mannen min slår meg",
        # Adult relatives are not children.
        "sønnen min på 30 slår meg",
        "moren min blir slått av broren min",
        # Someone who wants to hurt someone is not at risk of suicide.
        "jeg har lyst til å slå kona mi",
    ],
)
def test_no_child_reply_for_adults(stack: Any, message: str) -> None:
    # Neither the child's nor the suicide crisis reply, nor their line in another crisis reply or
    # the maybe tier. (A topic answer may still name Alarmtelefonen for readers under 18.)
    text = texts(say(stack, uuid.uuid4().hex, message))
    render = registry.load().render
    for category in ("child", "suicide"):
        assert render(blocks()["crisis_line"][category]) not in text, text
        for variant in content.responses()[RESPONSE_PREFIX + category]:
            assert render(variant["text"]).split(". ")[0] not in text, text


@pytest.mark.parametrize(
    "message",
    [
        # A child may be writing: the parent named as a child names them, no adult's sign.
        "hjelp, mamma blør fra nesa og han slår henne fortsatt",
        # A child named in an acute message the classifier also reads as a child's.
        "naboen drar en liten gutt etter armen inn i huset og slår ham nå",
    ],
)
def test_a_child_in_an_acute_message_gets_112_and_alarmtelefonen(stack: Any, message: str) -> None:
    text = texts(say(stack, uuid.uuid4().hex, message))
    assert text.index(REG["police_emergency"].phone) < text.index(
        REG["alarmtelefonen"].phone_display)
    assert REG["vo_linjen"].phone_display in text


@pytest.mark.parametrize("message", [
    "jeg har lyst til å slå kona mi",
    "hjelp meg å roe meg ned før jeg gjør noe dumt mot kjæresten min",  # set AG's kind
])
def test_wish_to_hurt_someone_gets_walk_away_and_atv(stack: Any, message: str) -> None:
    text = say(stack, uuid.uuid4().hex, message)[0]["text"]
    assert "gå unna" in text and REG["atv"].name in text
    assert text.index(REG["police_emergency"].phone) < text.index(REG["vo_linjen"].phone_display)


@pytest.mark.parametrize(
    "message",
    [
        "katta mi drepte en mus i dag lol",
        "vi slo ihjel tida med kortspill",
        "drømte at noen jagde meg med kniv",
        "driver med kickboksing og slår folk hver tirsdag lol",
        "går i 10. klasse og skal ha presentasjon om vold",
    ],
)
def test_figures_of_speech_get_no_crisis_reply(stack: Any, message: str) -> None:
    first = say(stack, uuid.uuid4().hex, message)[0]["text"]
    for rid in ("police_emergency", "ambulance", "alarmtelefonen", "rosa"):
        assert not first.startswith(("Ring " + REG[rid].phone, "Er du i fare nå")), first


def test_crisis_reply_also_answers_the_question(stack: Any) -> None:
    replies = say(stack, uuid.uuid4().hex,
                  "jeg er mann og kona mi slår meg, er det noen som kan hjelpe?")
    first = replies[0]["text"]
    assert first_number(first) == REG["police_emergency"].phone
    assert REG["vo_linjen"].phone_display in first
    assert "menn" in first.split("\n\n", 1)[1], first  # the men's crisis centre answer follows
    assert first.index(REG["police_emergency"].phone) < first.index("menn")


MAYBE_ASK = blocks()["maybe"]["ask"]


def test_maybe_tier_leads_with_a_safety_line_and_never_says_it_did_not_understand(
    stack: Any,
) -> None:
    sender = uuid.uuid4().hex
    replies = say(stack, sender, "det skjedde igjen i natt")
    first = replies[0]["text"]
    assert MAYBE_ASK in first.split("\n\n")[0], first
    assert first_number(first) in {REG[r].phone for r in
                                   ("police_emergency", "ambulance", "alarmtelefonen", "rosa")}
    assert "forsto deg riktig" not in texts(replies)
    assert REG["vo_linjen"].phone_display in texts(replies)
    assert any(b["payload"] == "tel:" + REG["police_emergency"].phone
               for r in replies for b in r.get("buttons", []))
    # "Nei" answers the question the maybe tier asked.
    after = say(stack, sender, "nei")[0]["text"]
    assert after.startswith("Ring " + REG["police_emergency"].phone_display), after


def test_calm_question_gets_no_safety_line(stack: Any) -> None:
    replies = say(stack, uuid.uuid4().hex, "hva er et krisesenter")
    assert MAYBE_ASK not in texts(replies)
    # A danger word in a question DIET knows well: answered as asked.
    replies = say(stack, uuid.uuid4().hex, "hva er menneskehandel?")
    assert MAYBE_ASK not in texts(replies)


def test_a_question_the_rules_set_aside_still_gets_the_safety_line(stack: Any) -> None:
    # Asked as a question, so no crisis reply; but the rules matched, so never silence.
    first = say(stack, uuid.uuid4().hex, "hvor mye blod kan man miste før man besvimer?")[0]["text"]
    assert MAYBE_ASK in first.split("\n\n")[0], first
    assert first_number(first) == REG["police_emergency"].phone, first
    # Where the artery lies is asked as a question too, but other authors label such questions
    # suicide, and the classifier trained on their sets is sure: the suicide reply, 113 first.
    first = say(stack, uuid.uuid4().hex, "hvor finner man pulsåra på håndleddet?")[0]["text"]
    assert first_number(first) == REG["ambulance"].phone, first


def test_strangling_dated_in_the_past_gets_the_safety_line_and_the_answer(stack: Any) -> None:
    # Last Friday, asked whether it is dangerous: the maybe tier's safety line and question, then
    # the answer about strangling (legevakt also without marks), not the acute crisis reply as if
    # it were happening. A question that reports a recent event keeps the safety line even though
    # the NLU knows the question well.
    first = say(stack, uuid.uuid4().hex, "samboeren holdt meg rundt halsen forrige fredag, "
                "kan det være farlig i ettertid?")[0]["text"]
    lead, rest = first.split("\n\n", 1)
    assert MAYBE_ASK in lead and first_number(lead) == REG["police_emergency"].phone, first
    assert REG["legevakt"].phone_display in rest, first
    # Tonight: the acute crisis reply.
    first = say(stack, uuid.uuid4().hex, "kjæresten tok kvelertak på meg i kveld, er det farlig?"
                )[0]["text"]
    assert first_number(first) == REG["police_emergency"].phone, first
    assert MAYBE_ASK not in first.split("\n\n")[0], first
    # A definition question: answered as asked, no safety line.
    replies = say(stack, uuid.uuid4().hex, "hva er kvelertak og hvorfor er det farlig?")
    assert MAYBE_ASK not in texts(replies)
    assert REG["legevakt"].phone_display in texts(replies)


def test_violence_described_in_a_question_gets_the_safety_line_and_the_answer(stack: Any) -> None:
    # Present tense, nothing about now, asked as a question the NLU knows well: the maybe tier's
    # safety line (112 first, "Er du trygg akkurat nå?"), then the answer for men.
    first = say(stack, uuid.uuid4().hex,
                "kjæresten min slår meg men jeg er mann, teller det liksom")[0]["text"]
    lead, rest = first.split("\n\n", 1)
    assert MAYBE_ASK in lead and first_number(lead) == REG["police_emergency"].phone, first
    assert "menn" in rest, first
    # "jeg er gutt" may be a boy under 18: since the sixteenth session's model (J trained on, the
    # NLU less sure of men_exposed here) the child reply, which still answers for men.
    first = say(stack, uuid.uuid4().hex,
                "kjæresten min slår meg men jeg er gutt, teller det liksom")[0]["text"]
    assert first_number(first) == REG["police_emergency"].phone, first
    assert REG["alarmtelefonen"].phone_display in first and REG["vo_linjen"].phone_display in first
    assert "menn" in first.split("\n\n", 1)[1], first
    # With "nå" it is happening: the acute crisis reply.
    first = say(stack, uuid.uuid4().hex, "kjæresten min slår meg nå, hva gjør jeg")[0]["text"]
    assert first_number(first) == REG["police_emergency"].phone, first
    assert MAYBE_ASK not in first.split("\n\n")[0], first


def test_saying_who_it_is_about_is_no_crisis(stack: Any) -> None:
    # "Det er for meg selv" answers the bot's own question; the crisis corpus writes "spør for meg
    # selv" after questions about pills, so the classifier alone is sure of suicide. An answer
    # intent the NLU is sure of lets it raise no more than the maybe tier.
    sender = uuid.uuid4().hex
    say(stack, sender, "jeg trenger noen råd om noe")
    first = say(stack, sender, "Det er for meg selv.")[0]["text"]
    assert not first.startswith("Det er godt at du sier fra"), first  # the suicide reply's opening
    # The same words after a question about the means are still the suicide reply.
    first = say(stack, uuid.uuid4().hex,
                "hvor mange sovetabletter må man ta for å ikke våkne? spør for meg selv")[0]["text"]
    assert first_number(first) == REG["ambulance"].phone, first


def test_every_crisis_reply_names_vo_linjen() -> None:
    texts_by_category = {name[len(RESPONSE_PREFIX):]: [v["text"] for v in variants]
                         for name, variants in content.responses().items()
                         if name.startswith(RESPONSE_PREFIX)}
    for category, text in blocks()["crisis_lead"].items():
        texts_by_category.setdefault(category, []).append(text)
    assert set(texts_by_category) == set(CATEGORIES)  # every category has its own reply
    for category, variants in texts_by_category.items():
        for text in variants:
            assert "[[vo_linjen]]" in text, category
    for name, text in blocks()["crisis_en"].items():
        if name != "check_safe":
            assert "[[vo_linjen]]" in text, name


@pytest.mark.parametrize("message", ["jeg er redd når han kommer hjem",
                                     "han er så sint i kveld og jeg vet ikke hva jeg skal gjøre"])
def test_fear_of_someone_never_gets_the_reply_for_those_who_would_hurt(
    stack: Any, message: str,
) -> None:
    text = texts(say(stack, uuid.uuid4().hex, message))
    assert "gå unna" not in text and REG["atv"].name not in text, text


@pytest.mark.asyncio(loop_scope="session")
async def test_replay_reproduces_the_model(agent: Any) -> None:
    """`bench.crisis_replay` decides again from recorded inputs: over crisis and calm lines of
    two sets, every parse it gives equals the real model's (intent, ranking, crisis flags)."""
    from bench import crisis_replay
    from bot import crisis_layer

    lines = [*crisis_replay.texts(ROOT / "tests" / "crisis" / "cases.yml")[::6],
             *crisis_replay.texts(ROOT / "tests" / "nlu" / "dev.yml")[::12]]
    recorded = await crisis_replay.record_inputs(agent, lines)
    assert set(recorded) == set(lines)
    replay = crisis_replay.Replay(
        recorded, crisis_layer.Settings.from_config(crisis_replay.configured()))
    crises = 0
    for line in lines:
        real, again = await agent.parse_message(line), await replay.parse_message(line)
        assert again["intent"] == real["intent"], line
        assert [r["name"] for r in again["intent_ranking"]] == [
            r["name"] for r in real["intent_ranking"]], line
        assert again.get(PARSE_KEY) == real.get(PARSE_KEY), line
        crises += bool(real.get(PARSE_KEY))
    assert 10 <= crises < len(lines)  # both kinds of line were compared


def test_the_replay_lists_lines_of_development_sets_only() -> None:
    from bench import crisis_replay

    crisis, nlu = ROOT / "tests" / "crisis", ROOT / "tests" / "nlu"
    assert crisis_replay.readable(crisis / "cases_ag.yml")
    assert crisis_replay.readable(crisis / "cases_al.yml")  # analysed since the 23rd session
    assert crisis_replay.readable(crisis / "cases_am.yml")  # analysed since the 24th session
    assert crisis_replay.readable(nlu / "dev.yml")
    for closed in (crisis / "cases_c.yml", crisis / "cases_f.yml", crisis / "cases_ah.yml",
                   crisis / "cases_ai.yml", crisis / "cases_aj.yml", crisis / "cases_ao.yml",
                   crisis / "cases_ap.yml", nlu / "heldout_p.yml"):
        assert not crisis_replay.readable(closed), closed
    with pytest.raises(SystemExit, match="cases_f.yml"):
        crisis_replay.run(Path("unused.tar.gz"), [crisis / "cases_aa.yml", crisis / "cases_f.yml"],
                          {}, misses=True)


def test_the_replay_reads_every_set_before_it_loads_the_model(tmp_path: Path) -> None:
    # A set missing from the list fails at once, not after the model parsed the others.
    from bench import crisis_replay

    with pytest.raises(FileNotFoundError, match="gone.yml"):
        crisis_replay.record(tmp_path / "nomodel.tar.gz",
                             [ROOT / "tests" / "crisis" / "cases.yml", tmp_path / "gone.yml"])
    assert not crisis_replay.store_path(tmp_path / "nomodel.tar.gz").exists()
