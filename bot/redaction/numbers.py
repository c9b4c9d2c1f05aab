"""Digit sequences that are personal identifiers: fødselsnummer and D-nummer, phone numbers (the
public helplines' excepted), bank account and card numbers. Text is normalised to ASCII digits
first (bot/redact.py)."""

from __future__ import annotations

import re

import phonenumbers
from stdnum.no import fodselsnummer, kontonr

from bot.redaction import Span
from bot.redaction.lists import ALLOWED_PHONES

# A chain of digit groups joined by one separator, optionally led by "+".
NUMBER_CHAIN_RE = re.compile(r"(?<![\w+])(?:\+\s?)?[0-9]+(?:[ \-.\u00a0][0-9]+)*(?![0-9])(?!\w)")
DIGIT_GROUP_RE = re.compile(r"[0-9]+")
CURRENCY_AFTER_RE = re.compile(r"\s*(?:kr\b|kroner\b|nok\b|,-|€|\$|euro\b)", re.IGNORECASE)


def _plausible_birth_date(digits: str) -> bool:
    """First six digits DDMMYY: day 01–31 (+40 D-number), month 01–12 (+40 H-, +80 synthetic)."""
    day, month = int(digits[0:2]), int(digits[2:4])
    if day > 40:
        day -= 40
    if month > 80:
        month -= 80
    elif month > 40:
        month -= 40
    return 1 <= day <= 31 and 1 <= month <= 12


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _card_shape(lengths: tuple[int, ...]) -> bool:
    if len(lengths) == 1:
        return True
    if lengths in ((4, 6, 4), (4, 6, 5)):
        return True
    return all(n == 4 for n in lengths[:-1]) and 1 <= lengths[-1] <= 4


def _phone_kind(
    digits: str, lengths: tuple[int, ...], international: bool, seps: str
) -> str | None:
    # Dots join phone groups too («912.34.567», «91.23.45.67»), but only in a phone's grouping:
    # other dotted numbers are dates and amounts («24.12.2022», «1.234.567»).
    if "." in seps and not international and (seps != "." * len(seps) or lengths not in DOTTED):
        return None
    if international:
        if not 8 <= len(digits) <= 15:
            return None
        try:
            number = phonenumbers.parse("+" + digits, None)
        except phonenumbers.NumberParseException:
            return None
        national = str(number.national_number)
        if national in ALLOWED_PHONES or digits in ALLOWED_PHONES:
            return None
        return "telefon" if phonenumbers.is_valid_number(number) else None
    if len(digits) != 8 or digits in ALLOWED_PHONES:
        return None
    if len(lengths) > 1 and min(lengths) < 2:
        return None
    if digits[0] in "49":  # the whole 4 and 9 series is mobile, assigned or not yet
        return "telefon"
    try:
        number = phonenumbers.parse(digits, "NO")
    except phonenumbers.NumberParseException:
        return None
    return "telefon" if phonenumbers.is_valid_number(number) else None


DOTTED = ((3, 2, 3), (2, 2, 2, 2), (4, 4))
# Ways a fødselsnummer is written: as one, birth date and personal number («150765 00565»), or
# birth date, individual number and check digits («150765 005 65»).
FNR_SHAPES = ((11,), (6, 5), (6, 3, 2))


def _shape_possible(lengths: tuple[int, ...]) -> bool:
    """Cheap pre-check: could a national number with these digit groups be any identifier?"""
    n = sum(lengths)
    if n == 8:
        return len(lengths) == 1 or min(lengths) >= 2
    if n == 11:
        return lengths in (*FNR_SHAPES, (4, 2, 5))
    return 13 <= n <= 19 and _card_shape(lengths)


def _classify_number(
    digits: str, lengths: tuple[int, ...], seps: str, international: bool
) -> str | None:
    """The kind of identifier one window of digit groups is, or None."""
    n = len(digits)
    if international:
        return _phone_kind(digits, lengths, True, seps)
    if n == 11:
        if lengths == (4, 2, 5) and seps in ("  ", ".."):
            return "kontonummer"
        if lengths in FNR_SHAPES and len(set(seps)) <= 1 and seps[:1] in ("", " ", "-", "."):
            if fodselsnummer.is_valid(digits) or _plausible_birth_date(digits):
                return "fødselsnummer"
            if lengths == (11,) and kontonr.is_valid(digits):
                return "kontonummer"
        return None
    if 13 <= n <= 19:
        if "." not in seps and _card_shape(lengths) and _luhn_ok(digits):
            return "kortnummer"
        return None
    if n == 8:
        return _phone_kind(digits, lengths, False, seps)
    return None


def number_spans(text: str) -> list[Span]:
    spans: list[Span] = []
    for chain in NUMBER_CHAIN_RE.finditer(text):
        groups = [
            (g.start(), g.end()) for g in DIGIT_GROUP_RE.finditer(text, chain.start(), chain.end())
        ]
        plus = text[chain.start()] == "+"
        if len(groups) == 1 and groups[0][1] - groups[0][0] < 8 and not plus:
            continue
        i = 0
        while i < len(groups):
            # Widest window first: digit count grows with j, so stop past 19 digits.
            ends: list[int] = []
            count = 0
            for j in range(i, len(groups)):
                count += groups[j][1] - groups[j][0]
                if count > 19:
                    break
                if count >= 8:
                    ends.append(j)
            found = None
            for j in reversed(ends):
                window = groups[i : j + 1]
                lengths = tuple(b - a for a, b in window)
                start, end = window[0][0], window[-1][1]
                international = (i == 0 and plus) or (
                    3 <= lengths[0] <= 5 and text.startswith("00", start)
                )
                if not international and not _shape_possible(lengths):
                    continue
                digits = "".join(text[a:b] for a, b in window)
                seps = "".join(text[window[k][1]] for k in range(len(window) - 1))
                if i == 0 and plus:
                    start = chain.start()
                elif international:
                    digits = digits[2:]
                if not international and CURRENCY_AFTER_RE.match(text, end):
                    continue
                kind = _classify_number(digits, lengths, seps, international)
                if kind:
                    found = Span(start, end, kind)
                    i = j + 1
                    break
            if found:
                spans.append(found)
            else:
                i += 1
    return spans
