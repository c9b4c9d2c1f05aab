"""Tests for bot.redact: table-driven cases plus property tests with planted identifiers."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.no import fodselsnummer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.redact import ALLOWED_PHONES, ALLOWED_WEBS, KINDS, Span, find, placeholder, redact  # noqa: E402

CASES = yaml.safe_load((ROOT / "tests" / "redact_cases.yml").read_text(encoding="utf-8"))["cases"]


# --- table-driven ----------------------------------------------------------------------------


def test_case_table_is_big_enough() -> None:
    assert len(CASES) >= 110
    assert sum(c["text"] == c["expected"] for c in CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:40] for c in CASES])
def test_case(case: dict[str, str]) -> None:
    assert redact(case["text"]) == case["expected"]
    assert redact(case["expected"]) == case["expected"]


def test_find_spans() -> None:
    text = "jeg heter Ola, ring 98765432"
    spans = find(text)
    assert spans == [Span(10, 13, "navn"), Span(20, 28, "telefon")]
    assert all(s.kind in KINDS for s in spans)


def test_allow_lists_come_from_registry() -> None:
    expected = ("112", "113", "02800", "116006", "116111", "116117", "116123", "22331160")
    for number in expected:
        assert number in ALLOWED_PHONES
    for site in ("vo-linjen.no", "dinutvei.no", "116111.no", "politiet.no", "rosa-help.no"):
        assert site in ALLOWED_WEBS


@pytest.mark.parametrize("number", sorted(ALLOWED_PHONES))
def test_helpline_numbers_kept(number: str) -> None:
    spaced = f"{number[:3]} {number[3:]}"
    for text in (f"ring {number}", f"ring +47 {number}", f"ring {spaced}"):
        assert redact(text) == text


@pytest.mark.parametrize("bad", [None, 123, b"98765432"])
def test_non_str_never_raises(bad: object) -> None:
    assert redact(bad) == ""  # type: ignore[arg-type]
    assert find(bad) == []  # type: ignore[arg-type]


# --- property tests --------------------------------------------------------------------------

# REDACT_EXAMPLES=5000 for a longer search before a release.
FAST = settings(
    max_examples=int(os.environ.get("REDACT_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@FAST
@given(st.text())
def test_never_raises_and_idempotent(text: str) -> None:
    once = redact(text)
    assert isinstance(once, str)
    assert redact(once) == once
    for span in find(text):
        assert 0 <= span.start < span.end <= len(text)


@FAST
@given(st.text(alphabet="0123456789 +-.abcæøå@/[]\n", max_size=80))
def test_digit_soup_idempotent(text: str) -> None:
    once = redact(text)
    assert redact(once) == once


@FAST
@given(st.lists(st.sampled_from(KINDS), max_size=6), st.sampled_from([" ", ", ", " og ", "\n"]))
def test_placeholders_never_redacted(kinds: list[str], sep: str) -> None:
    text = sep.join(placeholder(k) for k in kinds)
    assert redact(text) == text


# Generators of identifiers: each yields (identifier as written, expected kind).

@st.composite
def fodselsnummer_st(draw: st.DrawFn) -> tuple[str, str]:
    born = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2039, 12, 31)))
    day, month = born.day, born.month
    variant = draw(st.sampled_from(["plain", "d", "h", "synthetic"]))
    if variant == "d":
        day += 40
    elif variant == "h":
        month += 40
    elif variant == "synthetic":
        month += 80
    base = f"{day:02d}{month:02d}{born.year % 100:02d}{draw(st.integers(0, 999)):03d}"
    valid = draw(st.booleans())
    if valid and variant in ("plain", "d"):
        c1 = fodselsnummer.calc_check_digit1(base)
        c2 = fodselsnummer.calc_check_digit2(base + c1) if len(c1) == 1 else "0"
        number = base + c1[-1] + c2[-1]
    else:  # relaxed check digits (from 2032) or synthetic numbers: any two digits
        number = base + f"{draw(st.integers(0, 99)):02d}"
    spaced = draw(st.booleans())
    return (f"{number[:6]} {number[6:]}" if spaced else number), "fødselsnummer"


@st.composite
def phone_st(draw: st.DrawFn) -> tuple[str, str]:
    first = draw(st.sampled_from("49"))
    digits = first + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=7, max_size=7)))
    style = draw(st.sampled_from(["plain", "323", "2222", "+47", "0047"]))
    if style == "323":
        written = f"{digits[:3]} {digits[3:5]} {digits[5:]}"
    elif style == "2222":
        written = " ".join(digits[i : i + 2] for i in range(0, 8, 2))
    elif style == "+47":
        written = f"+47 {digits[:3]} {digits[3:5]} {digits[5:]}"
    elif style == "0047":
        written = f"0047 {digits}"
    else:
        written = digits
    return written, "telefon"


@st.composite
def email_st(draw: st.DrawFn) -> tuple[str, str]:
    user = draw(st.from_regex(r"[a-z][a-z0-9._]{0,12}[a-z0-9]", fullmatch=True))
    domains = ["gmail.com", "hotmail.no", "online.no", "outlook.com", "icloud.com"]
    domain = draw(st.sampled_from(domains))
    return f"{user}@{domain}", "e-post"


STREETS = ["Storgata", "Kirkeveien", "Trondheimsveien", "Kongens gate", "Bygdøy allé",
           "Strandgaten", "Parkveien", "Skolegata", "Havnegata", "Karl Johans gate",
           "Bjerkebakken", "Sjøveien"]


@st.composite
def address_st(draw: st.DrawFn) -> tuple[str, str]:
    number = draw(st.integers(1, 250))
    letter = draw(st.sampled_from(["", "", "B", " A"]))
    return f"{draw(st.sampled_from(STREETS))} {number}{letter}", "adresse"


@st.composite
def card_st(draw: st.DrawFn) -> tuple[str, str]:
    prefix = draw(st.sampled_from(["4", "51", "52", "37", "6011"]))
    length = draw(st.sampled_from([16, 16, 15, 19]))
    rest = length - len(prefix) - 1
    body = prefix + draw(st.text(alphabet="0123456789", min_size=rest, max_size=rest))
    number = body + luhn.calc_check_digit(body)
    sep = draw(st.sampled_from(["", " ", "-"]))
    if sep and length in (16, 19):
        number = sep.join(number[i : i + 4] for i in range(0, length, 4))
    return number, "kortnummer"


FIRST = ["Ola", "Kari", "Per", "Ali", "Jonas", "Emil", "Sara", "Fatima", "Ingrid", "Mohammed",
         "Anne-Lise", "Tor", "Nora", "Lars", "Aisha", "Jan Erik"]
LAST = ["Nordmann", "Hansen", "Johansen", "Olsen", "Larsen", "Khan", "Berg"]
NAME_CUES = ["jeg heter", "mitt navn er", "navnet mitt er", "mannen min", "kona mi",
             "samboeren min", "kjæresten min", "eksen min", "han heter", "hun heter", "sønnen min",
             "datteren min"]


@st.composite
def name_st(draw: st.DrawFn) -> tuple[str, str, str]:
    name = draw(st.sampled_from(FIRST))
    if draw(st.booleans()):
        name += " " + draw(st.sampled_from(LAST))
    cue = draw(st.sampled_from(NAME_CUES))
    if cue.endswith("heter") and draw(st.booleans()):
        name = name.lower()
    return cue, name, "navn"


TEMPLATES = [
    "Hei. {x} og jeg trenger hjelp nå",
    "jeg er redd, {x}. hva gjør jeg?",
    "{x}",
    "Kan dere kontakte meg? {x}",
    "han sa at {x} ikke skulle si noe til noen",
    "det skjedde igjen i natt ({x}) og barna så det",
    "{x}, jeg tør ikke dra hjem",
    "skriv til {x} i morgen, ikke i kveld!",
]

IDENTIFIERS = st.one_of(fodselsnummer_st(), phone_st(), email_st(), address_st(), card_st())


@FAST
@given(st.sampled_from(TEMPLATES), IDENTIFIERS)
def test_planted_identifier_removed(template: str, planted: tuple[str, str]) -> None:
    identifier, kind = planted
    text = template.format(x=identifier)
    out = redact(text)
    assert identifier not in out
    assert placeholder(kind) in out
    assert redact(out) == out


@FAST
@given(st.sampled_from(TEMPLATES), st.lists(IDENTIFIERS, min_size=2, max_size=4))
def test_several_planted_identifiers_removed(template: str, planted: list[tuple[str, str]]) -> None:
    text = template.format(x=" og ".join(identifier for identifier, _ in planted))
    out = redact(text)
    for identifier, kind in planted:
        assert identifier not in out
        assert placeholder(kind) in out


@FAST
@given(st.sampled_from(TEMPLATES), name_st())
def test_planted_name_removed(template: str, planted: tuple[str, str, str]) -> None:
    cue, name, kind = planted
    text = template.format(x=f"{cue} {name}")
    out = redact(text)
    for part in name.split():
        assert f" {part}" not in out.replace(placeholder(kind), "")
    assert f"{cue} {placeholder(kind)}" in out
    assert redact(out) == out
