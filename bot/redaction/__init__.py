"""Shared types of the redactor (bot/redact.py): the kinds of identifier it finds, a found span and
its placeholder. `lists` holds the word and allow lists (data), `numbers` the digit sequences."""

from __future__ import annotations

from typing import NamedTuple

KINDS = (
    "fødselsnummer",
    "telefon",
    "e-post",
    "adresse",
    "postnummer",
    "kontonummer",
    "kortnummer",
    "nettadresse",
    "navn",
    "ip-adresse",
    "bilnummer",
    "passnummer",
    "brukernavn",
)


class Span(NamedTuple):
    """A personal identifier at ``text[start:end]``; ``kind`` is the placeholder name."""

    start: int
    end: int
    kind: str


def placeholder(kind: str) -> str:
    """The text that replaces an identifier of ``kind``, e.g. ``[telefon]``."""
    return f"[{kind}]"
