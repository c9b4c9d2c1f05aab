"""The redactor's lists: what it must keep (public helpline numbers, help sites and service names
from data/helplines.yml) and its word lists (data/redaction/words.yml)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parent.parent.parent / "data"
HELPLINES = DATA / "helplines.yml"
WORDS = DATA / "redaction" / "words.yml"

def load_allow_lists(path: Path) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """Public service phone numbers (digits only), help-site domains and the words of service
    names («Mental Helse», «Røde Kors»: capitalised, but not a person) from the registry."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    phones: set[str] = set()
    webs: set[str] = set()
    words: set[str] = set()
    for entry in (data.get("resources") or {}).values():
        if not isinstance(entry, dict):
            continue
        words.update(w.lower() for w in re.findall(r"[^\W\d_]+", str(entry.get("name") or "")))
        phone = entry.get("phone")
        if phone:
            phones.add(re.sub(r"[^0-9]", "", str(phone)))
        for holder in (entry, entry.get("chat")):
            if isinstance(holder, dict) and holder.get("web"):
                webs.add(host(str(holder["web"])))
    phones.discard("")
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
ALLOWED_PHONES, ALLOWED_WEBS, SERVICE_WORDS = load_allow_lists(HELPLINES)
LOWER_PLACES = _words("lower_places")
NOT_PLATES = _words("not_plates")
NOT_NAMES = _words("not_names")
NOT_FULL_NAMES = _words("not_full_names") | LOWER_PLACES
# Alternatives of a regular expression, in the file's order.
RELATIONS_DEFINITE = "|".join(str(_LISTS["relations_definite"]).split())
RELATIONS_BASE = "|".join(str(_LISTS["relations_base"]).split())
