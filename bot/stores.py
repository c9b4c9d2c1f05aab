"""Conversation state that forgets and never holds personal data: tracker stores (in memory, the
embedded default in endpoints.yml; Redis, endpoints.redis.yml) that redact every event before it
is kept and expire a conversation a set time after its last message, and a Redis lock store whose
keys expire too and whose waiting requests cannot be stranded by a crashed instance.

Both tracker stores save in time that does not grow with the conversation's length beyond one JSON
load and dump: only the events that are new since the stored copy are redacted and handed to the
event broker (Rasa's own stores deserialise the stored tracker once more, or twice, per save to
find them)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlparse

from rasa.core.brokers.broker import EventBroker
from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, RedisLockStore
from rasa.core.tracker_store import InMemoryTrackerStore, RedisTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from redis.exceptions import RedisError, WatchError

from bot import redact
from bot.settings import expiry_seconds

logger = logging.getLogger(__name__)

T = TypeVar("T")
LOCK_EXPIRY_SECONDS = 300
SAFE_METADATA = frozenset({"model_id", "assistant_id"})


def redis_kwargs(url: str | None) -> dict[str, Any]:
    """host/port/db/password from a redis:// URL (REDIS_URL by default)."""
    parsed = urlparse(url or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    db = parsed.path.lstrip("/")
    return {
        "host": parsed.hostname or "127.0.0.1",
        "port": parsed.port or 6379,
        "db": int(db) if db.isdigit() else 0,
        "password": parsed.password,
        "use_ssl": parsed.scheme == "rediss",
    }


def scrub_entities(entities: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [
        {**e, "value": redact.redact(e["value"])} if isinstance(e.get("value"), str) else e
        for e in entities or []
    ]


def scrub_event(event: dict[str, Any]) -> dict[str, Any]:
    """An event as it may be stored: user text, parse text, entity and slot values redacted;
    user metadata reduced to Rasa's own keys (a channel could pass along anything)."""
    kind = event.get("event")
    if kind == "user":
        event = dict(event)
        if isinstance(event.get("text"), str):
            event["text"] = redact.redact(event["text"])
        parse = dict(event.get("parse_data") or {})
        if isinstance(parse.get("text"), str):
            parse["text"] = redact.redact(parse["text"])
        parse["entities"] = scrub_entities(parse.get("entities"))
        event["parse_data"] = parse
        # Only Rasa's own keys: anything a channel passes along could be personal. Keeping these
        # keeps stored events equal to live ones, which Rasa's merge of trackers relies on.
        event["metadata"] = {
            k: v for k, v in (event.get("metadata") or {}).items() if k in SAFE_METADATA
        }
    elif kind == "slot" and isinstance(event.get("value"), str):
        event = {**event, "value": redact.redact(event["value"])}
    elif kind == "entities":
        event = {**event, "entities": scrub_entities(event.get("entities"))}
    return event


def _same(stored: dict[str, Any], event: Event) -> bool:
    return stored.get("event") == event.type_name and stored.get("timestamp") == event.timestamp


def merge_events(stored: str | None, tracker: DialogueStateTracker
                 ) -> tuple[list[Event], str]:
    """The live tracker's events that `stored` (a serialised dialogue) lacks, and the new
    serialised dialogue: the stored events as they are (already redacted) plus those, redacted.

    The usual case is a live tracker that extends the stored one. Otherwise (another instance
    wrote in between, say after a lock expired) both histories are kept, stored first, as
    Rasa's own merge of trackers does; events are told apart by type and timestamp."""
    dialogue = json.loads(stored) if stored else {"name": tracker.sender_id, "events": []}
    old: list[dict[str, Any]] = dialogue["events"]
    events = list(tracker.events)
    if len(old) <= len(events) and all(
        _same(o, e) for o, e in zip(old, events[: len(old)], strict=True)
    ):
        new = events[len(old):]
    else:
        seen = {(o.get("event"), o.get("timestamp")) for o in old}
        new = [e for e in events if (e.type_name, e.timestamp) not in seen]
    dialogue["events"] = old + [scrub_event(e.as_dict()) for e in new]
    return new, json.dumps(dialogue)


class PrivateInMemoryTrackerStore(InMemoryTrackerStore):
    """The embedded default: trackers in this process's memory, redacted like the Redis ones and
    forgotten after the same expiry (Rasa's in-memory store keeps every conversation for the
    life of the process)."""

    def __init__(
        self,
        domain: Domain,
        event_broker: EventBroker | None = None,
        expiry_minutes: float | None = None,
        **_: Any,
    ) -> None:
        super().__init__(domain, event_broker)
        self.expiry = expiry_seconds(expiry_minutes)
        # sender id -> monotonic time of the last save, in that order (oldest first)
        self.last_saved: dict[str, float] = {}

    async def save(self, tracker: DialogueStateTracker) -> None:
        sender = tracker.sender_id
        now = time.monotonic()
        self.sweep(now)
        new, self.store[sender] = merge_events(self.store.get(sender), tracker)
        self.last_saved.pop(sender, None)  # re-inserted at the end: the order stays by time
        self.last_saved[sender] = now
        if self.event_broker is not None:
            await self._stream_new_events(self.event_broker, new, sender)

    async def _retrieve(self, sender_id: str, fetch_all_sessions: bool
                        ) -> DialogueStateTracker | None:
        self.sweep(time.monotonic())
        return await super()._retrieve(sender_id, fetch_all_sessions)

    def forget(self, sender: str) -> None:
        self.last_saved.pop(sender, None)
        self.store.pop(sender, None)

    def sweep(self, now: float) -> None:
        """Forget conversations idle for longer than the expiry; only the expired ones are
        visited, as they come first."""
        cutoff = now - self.expiry
        while self.last_saved:
            sender, saved = next(iter(self.last_saved.items()))
            if saved >= cutoff:
                return
            del self.last_saved[sender]
            self.store.pop(sender, None)


class PrivateRedisTrackerStore(RedisTrackerStore):
    """RedisTrackerStore that writes only redacted events and expires conversations.

    While Redis is unreachable it keeps conversations in a private in-memory store (redacted,
    expiring), so they go on with their state on this instance; once Redis answers again,
    Redis is the source and the in-memory copy of a conversation is dropped at its next save.
    Rasa's own fallback would read nothing back (each turn started afresh) and keep every
    unredacted conversation of the outage in memory until the process ends."""

    def __init__(
        self,
        domain: Domain,
        host: str | None = None,
        event_broker: EventBroker | None = None,
        url: str | None = None,
        expiry_minutes: float | None = None,
        key_prefix: str = "vonr",
        **_: Any,
    ) -> None:
        kw = redis_kwargs(url or (host if host and "://" in host else None))
        # Redis expires keys in whole seconds (at least one).
        record_exp = max(1, round(expiry_seconds(expiry_minutes)))
        super().__init__(domain=domain, event_broker=event_broker, key_prefix=key_prefix,
                         record_exp=record_exp, **kw)
        # Rasa's client waits for ever, and it blocks Rasa's event loop: every conversation.
        self.red.connection_pool.connection_kwargs.update(socket_timeout=2,
                                                          socket_connect_timeout=2)
        self.fallback = PrivateInMemoryTrackerStore(domain, expiry_minutes=expiry_minutes)
        self.degraded = False

    def _outage(self, down: bool) -> None:
        if down != self.degraded:
            self.degraded = down
            if down:
                logger.warning("tracker store unreachable: conversations are kept in this "
                               "process's memory (redacted, expiring) until it answers")
            else:
                logger.warning("tracker store reachable again")
        self.fallback.domain = self.domain

    async def _retrieve(self, sender_id: str, fetch_all_sessions: bool
                        ) -> DialogueStateTracker | None:
        try:
            tracker = await super()._retrieve(sender_id, fetch_all_sessions)
        except RedisError:
            self._outage(True)
            return await self.fallback._retrieve(sender_id, fetch_all_sessions)
        if tracker is None and self.fallback.store:
            # A conversation that began during the outage and has not been saved since.
            return await self.fallback._retrieve(sender_id, fetch_all_sessions)
        return tracker

    async def save(self, tracker: DialogueStateTracker, timeout: float | None = None) -> None:
        key = self.key_prefix + tracker.sender_id
        try:
            new, serialised = merge_events(self.red.get(key), tracker)
            self.red.set(key, serialised, ex=timeout or self.record_exp)
        except RedisError:
            self._outage(True)
            await self.fallback.save(tracker)
            return
        if self.degraded or self.fallback.store:
            self._outage(False)
            self.fallback.forget(tracker.sender_id)
        if self.event_broker is not None:
            await self._stream_new_events(self.event_broker, new, tracker.sender_id)


class ExpiringRedisLockStore(RedisLockStore):
    """RedisLockStore whose keys expire, so a crashed instance leaves nothing behind; whose
    read-modify-write steps run as Redis transactions, so two instances never draw the same
    ticket; whose waiting tickets stay alive while their request waits; and which degrades to
    in-memory locks while Redis is unreachable."""

    def __init__(self, url: str | None = None, key_prefix: str = "vonr", **_: Any) -> None:
        super().__init__(key_prefix=key_prefix, socket_timeout=2, **redis_kwargs(url))
        self.fallback = InMemoryLockStore()

    def _transact(
        self, conversation_id: str, change: Callable[[TicketLock], tuple[bool, T]]
    ) -> T:
        """Apply `change` to the stored lock under WATCH/MULTI, retrying when another instance
        wrote in between. `change` returns (keep the lock?, result)."""
        key = self.key_prefix + conversation_id
        while True:
            with self.red.pipeline() as pipe:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(raw)) if raw else TicketLock(
                        conversation_id)
                    keep, result = change(lock)
                    pipe.multi()
                    if keep:
                        pipe.set(key, lock.dumps(), ex=LOCK_EXPIRY_SECONDS)
                    else:
                        pipe.delete(key)
                    pipe.execute()
                    return result
                except WatchError:
                    continue

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        try:
            return self._transact(
                conversation_id, lambda lock: (True, lock.issue_ticket(lock_lifetime))
            )
        except RedisError:
            return self.fallback.issue_ticket(conversation_id, lock_lifetime)

    async def _acquire_lock(
        self, conversation_id: str, ticket: int, wait_time_in_seconds: float
    ) -> TicketLock:
        """Wait until `ticket` is served. Rasa's loop lets a waiting ticket expire like any other:
        when an instance dies holding the lock and a request arrives within one poll of its
        ticket, both tickets expire between two polls, the lock is left empty and the request
        waits forever (seen in tests/test_scale.py (c)). Here each poll, in one transaction,
        renews the waiting ticket (putting it back if it is gone, e.g. drawn during a Redis
        outage) and drops only expired tickets of others. A request with nobody ahead (the usual
        case) is served after one read, as with Rasa's loop."""

        def served(lock: TicketLock) -> TicketLock | None:
            return None if lock.is_locked(ticket) else lock

        def renew(lock: TicketLock) -> tuple[bool, TicketLock | None]:
            expires = time.time() + LOCK_LIFETIME
            mine = next((t for t in lock.tickets if t.number == ticket), None)
            if mine is None:  # in number order, so new tickets keep drawing unused numbers
                at = next((i for i, t in enumerate(lock.tickets) if t.number > ticket),
                          len(lock.tickets))
                lock.tickets.insert(at, Ticket(ticket, expires))
            else:
                mine.expires = max(mine.expires, expires)
            lock.remove_expired_tickets()
            return True, served(lock)

        try:
            # The usual case, nobody ahead: served with one read, no transaction.
            raw = self.red.get(self.key_prefix + conversation_id)
            lock = served(TicketLock.from_dict(json.loads(raw))) if raw else None
            if lock is not None:
                return lock
            # Waiting: renew our ticket at once and on every poll.
            while (lock := self._transact(conversation_id, renew)) is None:
                await asyncio.sleep(wait_time_in_seconds)
            return lock
        except RedisError:
            # Degraded: without Redis there is no lock across instances; go on rather than
            # leave the person without an answer.
            logger.warning("lock store unreachable: a conversation goes on unlocked")
            return TicketLock(conversation_id)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        def done(lock: TicketLock) -> tuple[bool, None]:
            lock.remove_ticket_for(ticket_number)
            return lock.is_someone_waiting(), None

        try:
            self._transact(conversation_id, done)
        except RedisError:
            self.fallback.cleanup(conversation_id, ticket_number)

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        try:
            return super().get_lock(conversation_id)
        except RedisError:
            return self.fallback.get_lock(conversation_id)

    def delete_lock(self, conversation_id: str) -> None:
        self.fallback.delete_lock(conversation_id)
        with contextlib.suppress(RedisError):
            super().delete_lock(conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        try:
            self.red.set(self.key_prefix + lock.conversation_id, lock.dumps(),
                         ex=LOCK_EXPIRY_SECONDS)
        except RedisError:
            self.fallback.save_lock(lock)
