"""Conversation state in Redis that forgets and never holds personal data: a tracker store that
redacts every event before it is written and expires a conversation a set time after its last
message, and a lock store whose keys expire too. Configured in endpoints.redis.yml."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlparse

from rasa.core.brokers.broker import EventBroker
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, RedisLockStore
from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from redis.exceptions import RedisError, WatchError

from bot import redact

DEFAULT_EXPIRY_MINUTES = 30
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


class PrivateRedisTrackerStore(RedisTrackerStore):
    """RedisTrackerStore that writes only redacted events and expires conversations."""

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
        minutes = float(expiry_minutes or os.environ.get("CONVERSATION_EXPIRY_MINUTES")
                        or DEFAULT_EXPIRY_MINUTES)
        kw = redis_kwargs(url or (host if host and "://" in host else None))
        super().__init__(domain=domain, event_broker=event_broker, key_prefix=key_prefix,
                         record_exp=max(1, round(minutes * 60)), **kw)

    def serialise_tracker(self, tracker: DialogueStateTracker) -> str:
        dialogue = tracker.as_dialogue().as_dict()
        dialogue["events"] = [scrub_event(e) for e in dialogue["events"]]
        return json.dumps(dialogue)


class ExpiringRedisLockStore(RedisLockStore):
    """RedisLockStore whose keys expire, so a crashed instance leaves nothing behind; whose
    read-modify-write steps run as Redis transactions, so two instances never draw the same
    ticket; and which degrades to in-memory locks while Redis is unreachable."""

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
