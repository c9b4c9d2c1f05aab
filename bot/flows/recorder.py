"""Conversations in progress and the Rasa event broker that feeds them: each conversation's shape
(steps, intents, flags) in memory under a keyed hash of its sender id, folded into the store's
daily counts once it is over."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rasa.core.brokers.broker import EventBroker

from bot.crisis_contract import FALLBACK_INTENT, INTENT_PREFIX, PARSE_KEY, RESPONSE_PREFIX
from bot.flows import (
    CONF,
    CONVERSATIONS,
    CRISIS,
    CRISIS_NEGATED,
    ESCALATION,
    FALLBACK_ACTIONS,
    FALLBACK_CONVERSATIONS,
    FALLBACK_TURNS,
    INTENT,
    PATH,
    PATH_CAP,
    SEP,
    TOTAL,
    TRANSITION,
    TRUNCATED,
    TURNS,
    Counts,
    clean_action,
    clean_intent,
    label,
    names,
    today,
)
from bot.flows.store import Store, open_store
from bot.pseudonym import Pseudonymizer
from bot.settings import expiry_seconds

log = logging.getLogger("vonr.flows")

STEPS_CAP = 200  # steps per conversation kept for transitions
MAX_OPEN = 100_000  # live conversations kept in memory; the oldest are folded beyond this
FOLLOWED = ("user", "action", "session_started", "restarted")  # event types the broker reads
SKIP_ACTIONS = {"action_listen", "action_session_start", "action_extract_slots",
                "action_unlikely_intent"}


def merge(into: Counts, more: Counts) -> Counts:
    for key, n in more.items():
        into[key] = into.get(key, 0) + n
    return into


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


class FlowRecorder:
    """The broker's logic without Rasa: feed it event dicts, it folds expired conversations into
    a store. Thread-safe (Rasa's loop publishes, the sweep thread folds)."""

    def __init__(self, store: Store, expiry: float | None = None) -> None:
        self.store = store
        self.expiry = expiry_seconds() if expiry is None else expiry
        self.pseudonyms = Pseudonymizer()
        self.open: dict[str, Conversation] = {}
        self.lock = threading.Lock()

    def conversation_key(self, sender_id: str) -> str:
        return self.pseudonyms.of(sender_id)

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
        crisis = parse.get(PARSE_KEY)
        if not isinstance(crisis, dict):
            crisis = {}
        found = {c for c in crisis.get("categories") or [] if isinstance(c, str)} & categories
        if crisis.get("negated"):
            conv.crisis_negated |= found
        else:
            conv.crisis |= found
        if name.startswith(INTENT_PREFIX) and name[len(INTENT_PREFIX):] in categories:
            conv.crisis.add(name[len(INTENT_PREFIX):])
        self._step(conv, "intent:" + name)

    def _action(self, conv: Conversation, event: dict[str, Any]) -> None:
        name = clean_action(event.get("name"))
        if name in FALLBACK_ACTIONS and not conv.turn_fallback:
            conv.turn_fallback = True
            conv.fallback_turns += 1
        if name.startswith(RESPONSE_PREFIX) and name[len(RESPONSE_PREFIX):] in names().crisis:
            conv.escalations.add(name[len(RESPONSE_PREFIX):])
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
    """Rasa event broker (endpoints.yml: `event_broker: {type: bot.flows.recorder.FlowBroker}`)."""

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


