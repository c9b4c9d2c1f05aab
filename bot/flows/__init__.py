"""Anonymised conversation flows for staff review: a Rasa event broker that keeps only the shape of
a conversation, and a store of daily counts.

What is kept, and where:

* In the Rasa process, in memory only: the in-progress shape of each live conversation (intent
  names, action/response names, a few flags) keyed by an HMAC of the sender id under a random
  per-process key, so the raw id is never kept and the key dies with the process. Never message
  text, entity or slot values, conversation ids, or timestamps (a monotonic "last seen" for the
  expiry lives in memory only).
* In the store (Redis when REDIS_URL is set, else a small SQLite file): daily counts only, keyed
  by day (YYYY-MM-DD, Europe/Oslo) and a name from the domain. Every Redis key has a TTL
  (FLOWS_RETENTION_DAYS, default 400); SQLite rows older than that are deleted on write.

Folding: a conversation is folded into the counts, all at once, when it has been idle for
CONVERSATION_EXPIRY_MINUTES (default 30, the tracker's expiry, read by `bot/settings.py`), found by
a sweep thread that runs a few times per expiry period; when Rasa starts a new session for the
same sender or restarts the conversation; and for everything still open when Rasa shuts down (a
crash loses the open ones). We do not fold on goodbye: people often say goodbye and go on asking,
and one conversation should be one path. Folding at expiry also means counts never move while a
person is still chatting, so a count cannot be tied to a live chat.

Names are checked against the domain before they are kept: a button payload such as
"/anything_typed" becomes an intent named by the user, so unknown names are kept as "ukjent".

The staff pages read the counts through `report.report()`, which applies k-anonymity in one
place (`shown()`): any count below k (FLOWS_K, default 5) is shown and exported as "<k".

Modules: this one holds the vocabulary (metrics, names from the domain, settings); `store` the
daily counts (SQLite or Redis); `recorder` the conversations in progress and Rasa's event broker;
`report` what the staff pages and exports read. Only `recorder` imports Rasa.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bot import content
from bot.crisis_contract import FALLBACK_INTENT, INTENT_PREFIX
from bot.settings import env_float

DEFAULT_K = 5
DEFAULT_RETENTION_DAYS = 400
PATH_CAP = 12  # steps of a whole path kept as one key; longer paths end in TRUNCATED
TRUNCATED = "…"
UNKNOWN = "ukjent"
FALLBACK_ACTIONS = {"utter_default", "action_default_fallback"}
TZ_NAME = "Europe/Oslo"

# Metrics (the second part of every count's key).
CONVERSATIONS = "samtaler"
TURNS = "meldinger"
INTENT = "intensjon"
CONF = "tillit"  # sum of confidences bucketed to tenths, per intent; mean = CONF / INTENT / 10
TRANSITION = "overgang"
PATH = "sti"
FALLBACK_TURNS = "fallback"
FALLBACK_CONVERSATIONS = "fallback_samtaler"
CRISIS = "krise"
CRISIS_NEGATED = "krise_avkreftet"
ESCALATION = "eskalering"
EXIT = "hurtigexit"
METRICS = (CONVERSATIONS, TURNS, INTENT, CONF, TRANSITION, PATH, FALLBACK_TURNS,
           FALLBACK_CONVERSATIONS, CRISIS, CRISIS_NEGATED, ESCALATION, EXIT)
TOTAL = "alle"  # key of metrics that have no name (conversations, turns, exits)
SEP = " > "  # between steps of a path; transitions are "a > b" too
Counts = dict[tuple[str, str, str], int]  # (day, metric, key) -> n


def k_threshold() -> int:
    return max(1, int(env_float("FLOWS_K", DEFAULT_K)))


def retention_days() -> int:
    return max(1, int(env_float("FLOWS_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)))


def today() -> str:
    try:
        from zoneinfo import ZoneInfo

        return dt.datetime.now(ZoneInfo(TZ_NAME)).date().isoformat()
    except Exception:  # no tz database: UTC days
        return dt.datetime.now(dt.timezone.utc).date().isoformat()


def shown(n: int, k: int | None = None) -> str:
    """The one place k-anonymity is applied: a count as pages and exports may show it."""
    k = k_threshold() if k is None else k
    return str(n) if n >= k else f"<{k}"


# ---- names from the domain -------------------------------------------------------------------

@dataclass(frozen=True)
class Names:
    intents: frozenset[str]
    actions: frozenset[str]
    crisis: tuple[str, ...]


@lru_cache(maxsize=1)
def names() -> Names:
    """Intent and action names a step may carry: the domain's, Rasa's defaults, crisis ones."""
    domain = content.domain()

    def keys(items: Iterable[Any] | None) -> set[str]:
        out: set[str] = set()
        for item in items or []:
            out |= set(item) if isinstance(item, dict) else {str(item)}
        return out

    try:
        from rasa.shared.core.constants import DEFAULT_ACTION_NAMES

        defaults = set(DEFAULT_ACTION_NAMES)
    except ImportError:  # pragma: no cover - rasa is installed wherever flows run
        defaults = set()
    intents = keys(domain.get("intents")) | {FALLBACK_INTENT}
    # The crisis categories are the domain's crisis_<category> intents (bot/components.py).
    categories = tuple(sorted(i[len(INTENT_PREFIX):] for i in intents
                              if i.startswith(INTENT_PREFIX)))
    actions = keys(domain.get("actions")) | set(domain.get("responses") or {}) | defaults
    return Names(frozenset(intents), frozenset(actions), categories)


def clean_intent(name: Any) -> str:
    return name if isinstance(name, str) and name in names().intents else UNKNOWN


def clean_action(name: Any) -> str:
    return name if isinstance(name, str) and name in names().actions else UNKNOWN


def label(step: str) -> str:
    """A step as shown and stored in paths: intents as-is, actions as-is (utter_/action_ mark
    them apart; intents never start with those)."""
    return step.split(":", 1)[1]


def is_action_label(name: str) -> bool:
    return name.startswith(("utter_", "action_"))
