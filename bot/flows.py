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
CONVERSATION_EXPIRY_MINUTES (default 30, the tracker's expiry), found by a sweep thread that runs
a few times per expiry period; when Rasa starts a new session for the same sender or restarts
the conversation; and for everything still open when Rasa shuts down (a crash loses the open
ones). We do not fold on goodbye: people often say goodbye and go on asking, and one conversation
should be one path. Folding at expiry also means
counts never move while a person is still chatting, so a count cannot be tied to a live chat.

Names are checked against the domain before they are kept: a button payload such as
"/anything_typed" becomes an intent named by the user, so unknown names are kept as "ukjent".

The staff pages read the counts through `report()`, which applies k-anonymity in one place
(`shown()`): any count below k (FLOWS_K, default 5) is shown and exported as "<k".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import os
import re
import secrets
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rasa.core.brokers.broker import EventBroker

log = logging.getLogger("vonr.flows")

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_K = 5
DEFAULT_RETENTION_DAYS = 400
DEFAULT_EXPIRY_MINUTES = 30.0
PATH_CAP = 12  # steps of a whole path kept as one key; longer paths end in TRUNCATED
STEPS_CAP = 200  # steps per conversation kept for transitions
MAX_OPEN = 100_000  # live conversations kept in memory; the oldest are folded beyond this
TRUNCATED = "…"
UNKNOWN = "ukjent"
FOLLOWED = ("user", "action", "session_started", "restarted")  # event types the broker reads
SKIP_ACTIONS = {"action_listen", "action_session_start", "action_extract_slots",
                "action_unlikely_intent"}
FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTIONS = {"utter_default", "action_default_fallback"}
CRISIS_INTENT = "crisis_"
CRISIS_RESPONSE = "utter_crisis_"
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,79}$")
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
FEEDBACK = "tilbakemelding"
METRICS = (CONVERSATIONS, TURNS, INTENT, CONF, TRANSITION, PATH, FALLBACK_TURNS,
           FALLBACK_CONVERSATIONS, CRISIS, CRISIS_NEGATED, ESCALATION, EXIT, FEEDBACK)
TOTAL = "alle"  # key of metrics that have no name (conversations, turns, exits)
HELPFUL, NOT_HELPFUL = "nyttig", "ikke_nyttig"
SEP = " > "  # between steps of a path; transitions are "a > b" too


def env_float(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name) or default)
    except ValueError:
        return default
    return value if value > 0 else default


def k_threshold() -> int:
    return max(1, int(env_float("FLOWS_K", DEFAULT_K)))


def retention_days() -> int:
    return max(1, int(env_float("FLOWS_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)))


def expiry_seconds() -> float:
    return env_float("CONVERSATION_EXPIRY_MINUTES", DEFAULT_EXPIRY_MINUTES) * 60


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
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8")) or {}

    def keys(items: Iterable[Any]) -> set[str]:
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
    categories = tuple(sorted(i[len(CRISIS_INTENT):] for i in intents
                              if i.startswith(CRISIS_INTENT)))
    actions = keys(domain.get("actions")) | set(domain.get("responses") or {}) | defaults
    return Names(frozenset(intents), frozenset(actions), categories)


def clean_intent(name: Any) -> str:
    return name if isinstance(name, str) and name in names().intents else UNKNOWN


def clean_action(name: Any) -> str:
    return name if isinstance(name, str) and name in names().actions else UNKNOWN


# ---- the store -------------------------------------------------------------------------------

Counts = dict[tuple[str, str, str], int]  # (day, metric, key) -> n


class Store:
    def add(self, counts: Counts) -> None:
        raise NotImplementedError

    def read(self, days: Iterable[str]) -> Counts:
        raise NotImplementedError


def state_dir() -> Path:
    if os.environ.get("VONR_STATE_DIR"):
        return Path(os.environ["VONR_STATE_DIR"])
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "vonr"


class SQLiteStore(Store):
    """Counts only, in `<state dir>/flows.sqlite3` (WAL, so the Rasa process writes while the
    gateway reads). A connection per call: both processes and the sweep thread use it."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or state_dir() / "flows.sqlite3"
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self.connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS counts (day TEXT NOT NULL, metric TEXT NOT NULL, "
                "key TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (day, metric, key)) "
                "WITHOUT ROWID"
            )
        os.chmod(self.path, 0o600)

    def connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        db.execute("PRAGMA busy_timeout=10000")
        db.execute("PRAGMA secure_delete=ON")
        return db

    def add(self, counts: Counts) -> None:
        if not counts:
            return
        cutoff = (dt.date.fromisoformat(today()) - dt.timedelta(days=retention_days())).isoformat()
        db = self.connect()
        try:
            with db:
                db.executemany(
                    "INSERT INTO counts (day, metric, key, n) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (day, metric, key) DO UPDATE SET n = n + excluded.n",
                    [(d, m, k, n) for (d, m, k), n in counts.items()],
                )
                db.execute("DELETE FROM counts WHERE day < ?", (cutoff,))
        finally:
            db.close()

    def read(self, days: Iterable[str]) -> Counts:
        days = sorted(set(days))
        if not days:
            return {}
        db = self.connect()
        try:
            rows = db.execute(
                "SELECT day, metric, key, n FROM counts WHERE day >= ? AND day <= ?",
                (days[0], days[-1]),
            ).fetchall()
        finally:
            db.close()
        wanted = set(days)
        return {(d, m, k): n for d, m, k, n in rows if d in wanted}


class RedisStore(Store):
    """One hash per day and metric, `vonr:flows:<day>:<metric>`, each with a TTL of the
    retention period (refreshed while the day is written)."""

    def __init__(self, url: str, prefix: str = "vonr:flows:") -> None:
        import redis

        self.red = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.prefix = prefix

    def key(self, day: str, metric: str) -> str:
        return f"{self.prefix}{day}:{metric}"

    def add(self, counts: Counts) -> None:
        if not counts:
            return
        ttl = retention_days() * 86400
        pipe = self.red.pipeline(transaction=True)
        keys = set()
        for (day, metric, key), n in counts.items():
            pipe.hincrby(self.key(day, metric), key, n)
            keys.add(self.key(day, metric))
        for key in keys:
            pipe.expire(key, ttl)
        pipe.execute()

    def read(self, days: Iterable[str]) -> Counts:
        pairs = [(d, m) for d in sorted(set(days)) for m in METRICS]
        pipe = self.red.pipeline(transaction=False)
        for d, m in pairs:
            pipe.hgetall(self.key(d, m))
        out: Counts = {}
        for (d, m), values in zip(pairs, pipe.execute(), strict=True):
            for k, n in (values or {}).items():
                out[(d, m, k.decode())] = int(n)
        return out


def open_store(url: str | None = None) -> Store:
    url = url or os.environ.get("REDIS_URL")
    return RedisStore(url) if url else SQLiteStore()


# ---- conversations in progress ---------------------------------------------------------------

@dataclass
class Conversation:
    day: str
    last_seen: float  # time.monotonic(), memory only
    steps: list[str] = field(default_factory=list)  # "intent:<name>" or "action:<name>"
    intents: Counter[str] = field(default_factory=Counter)
    conf: Counter[str] = field(default_factory=Counter)  # bucketed tenths per intent
    turns: int = 0
    fallback_turns: int = 0
    turn_fallback: bool = False
    crisis: set[str] = field(default_factory=set)
    crisis_negated: set[str] = field(default_factory=set)
    escalations: set[str] = field(default_factory=set)

    def counts(self) -> Counts:
        d = self.day
        c: Counter[tuple[str, str, str]] = Counter()
        if not self.turns:
            return {}
        c[(d, CONVERSATIONS, TOTAL)] += 1
        c[(d, TURNS, TOTAL)] += self.turns
        for name, n in self.intents.items():
            c[(d, INTENT, name)] += n
        for name, n in self.conf.items():
            c[(d, CONF, name)] += n
        for a, b in zip(self.steps, self.steps[1:], strict=False):
            c[(d, TRANSITION, label(a) + SEP + label(b))] += 1
        path = [label(s) for s in self.steps[:PATH_CAP]]
        if len(self.steps) > PATH_CAP:
            path.append(TRUNCATED)
        c[(d, PATH, SEP.join(path))] += 1
        if self.fallback_turns:
            c[(d, FALLBACK_TURNS, TOTAL)] += self.fallback_turns
            c[(d, FALLBACK_CONVERSATIONS, TOTAL)] += 1
        for cat in self.crisis:
            c[(d, CRISIS, cat)] += 1
        for cat in self.crisis_negated - self.crisis:
            c[(d, CRISIS_NEGATED, cat)] += 1
        for cat in self.escalations:
            c[(d, ESCALATION, cat)] += 1
        return dict(c)


def label(step: str) -> str:
    """A step as shown and stored in paths: intents as-is, actions as-is (utter_/action_ mark
    them apart; intents never start with those)."""
    return step.split(":", 1)[1]


def is_action_label(name: str) -> bool:
    return name.startswith(("utter_", "action_"))


def merge(into: Counts, more: Counts) -> Counts:
    for key, n in more.items():
        into[key] = into.get(key, 0) + n
    return into


class FlowRecorder:
    """The broker's logic without Rasa: feed it event dicts, it folds expired conversations into
    a store. Thread-safe (Rasa's loop publishes, the sweep thread folds)."""

    def __init__(self, store: Store, expiry: float | None = None) -> None:
        self.store = store
        self.expiry = expiry_seconds() if expiry is None else expiry
        self.key = secrets.token_bytes(32)
        self.open: dict[str, Conversation] = {}
        self.lock = threading.Lock()

    def conversation_key(self, sender_id: str) -> str:
        return hmac.new(self.key, sender_id.encode("utf-8"), hashlib.sha256).hexdigest()

    def publish(self, event: dict[str, Any]) -> None:
        sender = event.get("sender_id")
        kind = event.get("event")
        if not isinstance(sender, str) or kind not in FOLLOWED:
            return
        if kind == "action" and event.get("name") in SKIP_ACTIONS:
            return
        ckey = self.conversation_key(sender)
        folded: Counts = {}
        with self.lock:
            conv = self.open.get(ckey)
            if kind in ("session_started", "restarted"):
                if conv is not None:  # a new session or a restart: the old one is done
                    merge(folded, self.open.pop(ckey).counts())
            else:
                if conv is None:
                    conv = self.open[ckey] = Conversation(day=today(),
                                                          last_seen=time.monotonic())
                    if len(self.open) > MAX_OPEN:
                        oldest = min(self.open, key=lambda k: self.open[k].last_seen)
                        merge(folded, self.open.pop(oldest).counts())
                conv.last_seen = time.monotonic()
                if kind == "user":
                    self._user(conv, event)
                else:
                    self._action(conv, event)
        self._write(folded)

    def _step(self, conv: Conversation, step: str) -> None:
        if len(conv.steps) < STEPS_CAP:
            conv.steps.append(step)

    def _user(self, conv: Conversation, event: dict[str, Any]) -> None:
        parse = event.get("parse_data") or {}
        intent = parse.get("intent") or {}
        name = clean_intent(intent.get("name"))
        conv.turns += 1
        conv.intents[name] += 1
        try:
            confidence = min(1.0, max(0.0, float(intent.get("confidence") or 0.0)))
        except (TypeError, ValueError):
            confidence = 0.0
        conv.conf[name] += round(confidence * 10)
        conv.turn_fallback = name == FALLBACK_INTENT
        if conv.turn_fallback:
            conv.fallback_turns += 1
        categories = set(names().crisis)
        crisis = parse.get("crisis") if isinstance(parse.get("crisis"), dict) else {}
        found = {c for c in crisis.get("categories") or [] if isinstance(c, str)} & categories
        if crisis.get("negated"):
            conv.crisis_negated |= found
        else:
            conv.crisis |= found
        if name.startswith(CRISIS_INTENT) and name[len(CRISIS_INTENT):] in categories:
            conv.crisis.add(name[len(CRISIS_INTENT):])
        self._step(conv, "intent:" + name)

    def _action(self, conv: Conversation, event: dict[str, Any]) -> None:
        name = clean_action(event.get("name"))
        if name in FALLBACK_ACTIONS and not conv.turn_fallback:
            conv.turn_fallback = True
            conv.fallback_turns += 1
        if name.startswith(CRISIS_RESPONSE) and name[len(CRISIS_RESPONSE):] in names().crisis:
            conv.escalations.add(name[len(CRISIS_RESPONSE):])
        self._step(conv, "action:" + name)

    def sweep(self, everything: bool = False) -> int:
        """Fold conversations idle longer than the expiry (or all of them); returns how many."""
        now = time.monotonic()
        folded: Counts = {}
        with self.lock:
            done = [k for k, c in self.open.items()
                    if everything or now - c.last_seen >= self.expiry]
            for k in done:
                merge(folded, self.open.pop(k).counts())
        self._write(folded)
        return len(done)

    def _write(self, counts: Counts) -> None:
        if not counts:
            return
        try:
            self.store.add(counts)
        except Exception:  # counts are best effort; never break a conversation over them
            log.warning("could not write flow counts", exc_info=True)


class FlowBroker(EventBroker):
    """Rasa event broker (endpoints.yml: `event_broker: {type: bot.flows.FlowBroker}`)."""

    def __init__(self, store: Store, expiry: float | None = None,
                 sweep_every: float | None = None) -> None:
        self.recorder = FlowRecorder(store, expiry)
        every = sweep_every or min(30.0, max(0.5, self.recorder.expiry / 4))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,),
                                        name="vonr-flows", daemon=True)
        self._thread.start()

    @classmethod
    async def from_endpoint_config(cls, broker_config: Any, event_loop: Any = None,
                                   ) -> FlowBroker:
        kwargs = getattr(broker_config, "kwargs", {}) or {}
        url = getattr(broker_config, "url", None) or kwargs.get("url")
        if url and not str(url).startswith(("redis://", "rediss://", "unix://")):
            url = None  # an unset ${REDIS_URL} and the like: the embedded store
        return cls(open_store(url))

    def _run(self, every: float) -> None:
        while not self._stop.wait(every):
            self.recorder.sweep()

    def publish(self, event: dict[str, Any]) -> None:
        try:
            self.recorder.publish(event)
        except Exception:  # never break a conversation over counts
            log.warning("could not record a flow step", exc_info=True)

    def is_ready(self) -> bool:
        return True

    async def close(self) -> None:
        self._stop.set()
        self.recorder.sweep(everything=True)


# ---- reading: one report, k-anonymity applied in shown() -------------------------------------

def day_range(days: int, end: str | None = None) -> list[str]:
    last = dt.date.fromisoformat(end or today())
    return [(last - dt.timedelta(days=i)).isoformat() for i in range(days - 1, -1, -1)]


@dataclass
class Report:
    days: list[str]
    counts: Counts
    k: int

    def total(self, metric: str, key: str | None = None) -> int:
        return sum(n for (_, m, k), n in self.counts.items()
                   if m == metric and (key is None or k == key))

    def per_day(self, metric: str, key: str = TOTAL) -> list[tuple[str, int]]:
        return [(d, self.counts.get((d, metric, key), 0)) for d in self.days]

    def by_key(self, metric: str) -> Counter[str]:
        c: Counter[str] = Counter()
        for (_, m, k), n in self.counts.items():
            if m == metric:
                c[k] += n
        return c

    def fallback_rate(self) -> str:
        """Share of messages that got a fallback; hidden unless both counts reach k."""
        fb, turns = self.total(FALLBACK_TURNS), self.total(TURNS)
        if fb < self.k or turns < self.k:
            return "–"
        return f"{100 * fb / turns:.1f} %".replace(".", ",")

    def mean_confidence(self) -> list[tuple[str, str, str]]:
        """(intent, count as shown, mean confidence or "–"), lowest mean first; a mean only for
        intents seen at least k times."""
        counts, sums = self.by_key(INTENT), self.by_key(CONF)
        rows = []
        for name, n in counts.items():
            mean = sums[name] / n / 10 if n else 0.0
            rows.append((n < self.k, mean if n >= self.k else 2.0, name, n))
        rows.sort()
        return [(name, shown(n, self.k), f"{mean:.2f}".replace(".", ",") if mean <= 1 else "–")
                for _, mean, name, n in rows]

    def common_paths(self, limit: int = 10) -> tuple[list[tuple[str, int]], int]:
        """Paths seen at least k times (most common first), and how many conversations took a
        rarer path (a rare path is never listed: it could single a person out)."""
        paths = self.by_key(PATH)
        common = [(p, n) for p, n in paths.most_common() if n >= self.k]
        rare = sum(n for n in paths.values() if n < self.k)
        return common[:limit], rare + sum(n for _, n in common[limit:])


def report(store: Store, days: int = 30, end: str | None = None) -> Report:
    span = day_range(max(1, min(days, retention_days())), end)
    return Report(span, store.read(span), k_threshold())


def csv_rows(rep: Report) -> list[list[str]]:
    """Rows of the CSV export, every count through shown(); rare paths only as a sum."""
    rows = [["dag", "måling", "nøkkel", "antall"]]
    for (d, m, key), n in sorted(rep.counts.items()):
        if m == PATH and n < rep.k:
            continue
        if m == CONF:
            continue  # exported as a mean below, only where the count reaches k
        rows.append([d, m, key, shown(n, rep.k)])
    for d in rep.days:
        rare = sum(n for (dd, m, _), n in rep.counts.items()
                   if dd == d and m == PATH and n < rep.k)
        if rare:
            rows.append([d, PATH, "(sjeldnere stier til sammen)", shown(rare, rep.k)])
        for (dd, m, key), n in sorted(rep.counts.items()):
            if dd == d and m == INTENT and n >= rep.k:
                mean = rep.counts.get((d, CONF, key), 0) / n / 10
                rows.append([d, "snitt_tillit", key, f"{mean:.2f}"])
    return rows


def stories_yaml(rep: Report, limit: int = 20) -> str:
    """The most common paths (seen at least k times) as Rasa test stories."""
    common, rare = rep.common_paths(limit)
    lines = [
        "# Vanligste samtaleforløp, anonymisert: bare intensjoner og handlinger, ingen tekst.",
        f"# Periode: {rep.days[0]} til {rep.days[-1]}. Stier sett færre enn {rep.k} ganger er "
        f"utelatt ({shown(rare, rep.k)} samtaler).",
        "# Intensjoner som fylte slots (f.eks. inform_audience) mangler slot_was_set og må "
        "fullføres for hånd.",
        'version: "3.1"',
        "stories:",
    ]
    for i, (path, n) in enumerate(common, 1):
        steps = [s for s in path.split(SEP) if s != TRUNCATED]
        lines.append(f"  - story: vanlig sti {i} ({shown(n, rep.k)} samtaler)"
                     + (" (forkortet)" if path.endswith(TRUNCATED) else ""))
        lines.append("    steps:")
        for step in steps:
            kind = "action" if is_action_label(step) else "intent"
            lines.append(f"      - {kind}: {step}")
    if not common:
        lines[-1] = "stories: []"
    return "\n".join(lines) + "\n"


def record_event(store: Store, metric: str, key: str = TOTAL) -> None:
    """A count from the widget (quick exit, feedback): per day only."""
    store.add({(today(), metric, key): 1})
