"""The redactor's lists: what it must keep (public helpline numbers, help sites and service names,
from the helpline registry, `bot/registry.py`) and its word lists (data/redaction/words.yml)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import yaml

from bot import registry

WORDS = Path(__file__).resolve().parent.parent.parent / "data" / "redaction" / "words.yml"


def allow_lists(
    resources: Iterable[registry.Resource],
) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """Public service phone numbers (digits only), help-site domains and the words of service
    names («Mental Helse», «Røde Kors»: capitalised, but not a person) from the registry."""
    phones: set[str] = set()
    webs: set[str] = set()
    words: set[str] = set()
    for r in resources:
        words.update(w.lower() for w in re.findall(r"[^\W\d_]+", r.name))
        if r.phone:
            phones.add(r.phone)
        for web in (r.web, r.chat.get("web")):
            if web:
                webs.add(host(str(web)))
    webs.discard("")
    return frozenset(phones), frozenset(webs), frozenset(words)


def host(url: str) -> str:
    """The host of `url` in lower case, without "www."."""
    name = re.sub(r"^[a-z]+://", "", url.strip().lower())
    name = re.split(r"[/?#:]", name, maxsplit=1)[0]
    return name[4:] if name.startswith("www.") else name


def _words(key: str) -> frozenset[str]:
    return frozenset(str(_LISTS[key]).split())


_LISTS = yaml.safe_load(WORDS.read_text(encoding="utf-8"))
ALLOWED_PHONES, ALLOWED_WEBS, SERVICE_WORDS = allow_lists(registry.load().resources.values())
LOWER_PLACES = _words("lower_places")
NOT_PLATES = _words("not_plates")
NOT_NAMES = _words("not_names")
NOT_FULL_NAMES = _words("not_full_names") | LOWER_PLACES
# Alternatives of a regular expression, in the file's order.
RELATIONS_DEFINITE = "|".join(str(_LISTS["relations_definite"]).split())
RELATIONS_BASE = "|".join(str(_LISTS["relations_base"]).split())
