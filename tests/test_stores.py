"""The tracker and lock stores (bot/stores.py): what they keep, what they hand the event broker,
when they forget, in which order they let requests through. In-memory and against the real Redis;
the stack-level tests (privacy e2e, scale, faults) cover them inside Rasa."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from rasa.core.brokers.broker import EventBroker
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import speedups
from bot.launch import free_port
from bot.stores import (
    ExpiringRedisLockStore,
    PrivateInMemoryTrackerStore,
    PrivateRedisTrackerStore,
    merge_events,
)
from tests.conftest import REDIS_TEST_URL, ROOT

FNR = "12057712345"  # shape of a fødselsnummer; the redactor masks 11-digit ids after a cue
PHONE = "912 34 567"


class Collecting(EventBroker):
    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, event: dict[str, Any]) -> None:
        self.published.append(event)


def turn(text: str, answer: str, t: float) -> list[Event]:
    return [
        UserUttered(text, {"name": "need_help", "confidence": 0.9}, timestamp=t),
        ActionExecuted("utter_help", timestamp=t + 0.1),
        BotUttered(answer, timestamp=t + 0.2),
        ActionExecuted("action_listen", timestamp=t + 0.3),
    ]


def tracker(events: list[Event], sender: str = "s1") -> DialogueStateTracker:
    return DialogueStateTracker.from_events(sender, events, slots=[])


def stored_texts(serialised: str) -> list[str]:
    return [e.get("text") for e in json.loads(serialised)["events"] if e["event"] == "user"]


def test_first_save_keeps_every_event_redacted() -> None:
    events = turn(f"ring meg på {PHONE}", "Hei", 1.0)
    new, serialised = merge_events(None, tracker(events))
    assert new == events
    assert PHONE not in serialised and stored_texts(serialised) == ["ring meg på [telefon]"]


def test_later_save_adds_only_new_events_and_keeps_stored_ones_as_they_are() -> None:
    first = turn("hei", "Hei!", 1.0)
    _, stored = merge_events(None, tracker(first))
    second = turn(f"jeg heter Kari og bor i Storgata 5, tlf {PHONE}", "Takk", 2.0)
    new, serialised = merge_events(stored, tracker(first + second))
    assert new == second
    assert json.loads(serialised)["events"][: len(first)] == json.loads(stored)["events"]
    texts = stored_texts(serialised)
    assert texts[0] == "hei" and PHONE not in texts[1] and "Storgata 5" not in texts[1]


def test_diverged_histories_keep_both_stored_first() -> None:
    """Another instance wrote a turn this one never saw: nothing is lost."""
    base = turn("hei", "Hei!", 1.0)
    theirs = turn("hva er vo-linjen", "VO-linjen ...", 2.0)
    ours = turn("hva er et krisesenter", "Et krisesenter ...", 3.0)
    _, stored = merge_events(None, tracker(base + theirs))
    new, serialised = merge_events(stored, tracker(base + ours))
    assert new == ours
    assert stored_texts(serialised) == ["hei", "hva er vo-linjen", "hva er et krisesenter"]


def test_slot_values_are_redacted() -> None:
    events = [SlotSet("audience", f"ring {PHONE}", timestamp=1.0)]
    _, serialised = merge_events(None, tracker(events))
    assert PHONE not in serialised


def test_memory_store_round_trip_broker_and_expiry() -> None:
    broker = Collecting()
    store = PrivateInMemoryTrackerStore(Domain.empty(), event_broker=broker, expiry_minutes=30)
    first, second = turn("hei", "Hei!", 1.0), turn(f"tlf {PHONE}", "Takk", 2.0)

    async def run() -> DialogueStateTracker | None:
        await store.save(tracker(first))
        await store.save(tracker(first + second))
        return await store.retrieve_full_tracker("s1")

    back = asyncio.run(run())
    assert back is not None and len(back.events) == len(first + second)
    # Each event reaches the broker once, not once per save.
    assert [e["timestamp"] for e in broker.published] == [e.timestamp for e in first + second]
    assert PHONE not in store.store["s1"]
    store.sweep(time.monotonic() + store.expiry + 1)
    assert "s1" not in store.store and asyncio.run(store.retrieve("s1")) is None


def test_memory_store_expiry_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVERSATION_EXPIRY_MINUTES", "2")
    assert PrivateInMemoryTrackerStore(Domain.empty()).expiry == 120


@pytest.mark.parametrize(("minutes", "seconds"), [
    ("2", 120), ("0.5", 30), (None, 1800), ("", 1800), ("0", 1800), ("-5", 1800), ("abc", 1800)])
def test_trackers_and_flow_counts_read_one_expiry(
    minutes: str | None, seconds: float, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The stores forget a conversation and the flow counts fold it after the same time
    (bot/settings.py); a value that is no positive number gives the default, 30 minutes."""
    from bot.flows.recorder import FlowRecorder
    from bot.flows.store import SQLiteStore

    if minutes is None:
        monkeypatch.delenv("CONVERSATION_EXPIRY_MINUTES", raising=False)
    else:
        monkeypatch.setenv("CONVERSATION_EXPIRY_MINUTES", minutes)
    assert PrivateInMemoryTrackerStore(Domain.empty()).expiry == seconds
    assert FlowRecorder(SQLiteStore(tmp_path / "flows.sqlite3")).expiry == seconds
    # Redis keeps whole seconds, at least one (the client connects only when first used).
    assert PrivateRedisTrackerStore(Domain.empty(), url=REDIS_TEST_URL).record_exp == seconds
    assert PrivateRedisTrackerStore(Domain.empty(), url=REDIS_TEST_URL,
                                    expiry_minutes=0.001).record_exp == 1


def test_redis_store_writes_redacted_expiring_json(redis_client: Any) -> None:
    broker = Collecting()
    store = PrivateRedisTrackerStore(Domain.empty(), url=REDIS_TEST_URL, event_broker=broker,
                                     expiry_minutes=5)
    first, second = turn("hei", "Hei!", 1.0), turn(f"mitt fnr er {FNR}", "Takk", 2.0)

    async def run() -> DialogueStateTracker | None:
        await store.save(tracker(first, "stores-test"))
        await store.save(tracker(first + second, "stores-test"))
        return await store.retrieve_full_tracker("stores-test")

    back = asyncio.run(run())
    key = store.key_prefix + "stores-test"
    raw = redis_client.get(key).decode()
    assert FNR not in raw and stored_texts(raw)[1].startswith("mitt fnr er [")
    assert 0 < redis_client.ttl(key) <= 300
    assert back is not None and [type(e) for e in back.events] == [type(e) for e in first + second]
    assert len(broker.published) == len(first + second)
    redis_client.delete(key)


def test_redis_store_outage_keeps_conversations_private_then_resumes_on_redis(
    redis_client: Any,
) -> None:
    import redis

    store = PrivateRedisTrackerStore(Domain.empty(), url=REDIS_TEST_URL, expiry_minutes=5)
    live = store.red
    store.red = redis.StrictRedis(port=free_port(), decode_responses=True)  # nothing listens
    first = turn(f"mitt fnr er {FNR}", "Takk", 1.0)

    async def during_outage() -> DialogueStateTracker | None:
        await store.save(tracker(first, "outage"))
        return await store.retrieve("outage")

    back = asyncio.run(during_outage())
    # The conversation keeps its state on this instance, redacted, in memory only.
    assert store.degraded and back is not None
    assert [type(e) for e in back.events] == [type(e) for e in first]
    assert FNR not in store.fallback.store["outage"]
    assert not redis_client.exists(store.key_prefix + "outage")

    store.red = live  # Redis answers again
    asyncio.run(store.save(tracker(first + turn("hei igjen", "Hei", 2.0), "outage")))
    assert not store.degraded and "outage" not in store.fallback.store
    raw = redis_client.get(store.key_prefix + "outage").decode()
    assert FNR not in raw and stored_texts(raw) == [stored_texts(raw)[0], "hei igjen"]
    assert stored_texts(raw)[0].startswith("mitt fnr er [")


def test_waiting_request_is_served_after_a_dead_instance_s_ticket_expires(
    redis_client: Any,
) -> None:
    """A crashed instance leaves its ticket; a request that arrives within one poll must still be
    served once that ticket expires. Rasa's loop let both tickets expire between two polls and
    then waited forever on an empty lock (tests/test_scale.py (c), 5 of 10 runs)."""
    store = ExpiringRedisLockStore(REDIS_TEST_URL)
    store.issue_ticket("dead", lock_lifetime=1)  # never cleaned up: its instance was killed

    async def waiter() -> float:
        await asyncio.sleep(0.3)
        started = time.monotonic()
        async with store.lock("dead", lock_lifetime=1, wait_time_in_seconds=1):
            return time.monotonic() - started

    waited = asyncio.run(asyncio.wait_for(waiter(), timeout=10))
    assert 0.5 < waited < 3, waited  # it waited for the dead ticket, then got through
    assert not redis_client.exists(store.key_prefix + "dead"), "an idle lock is deleted"


def test_requests_on_one_conversation_are_served_in_order(redis_client: Any) -> None:
    store = ExpiringRedisLockStore(REDIS_TEST_URL)
    log: list[str] = []

    async def request(name: str, delay: float) -> None:
        await asyncio.sleep(delay)
        async with store.lock("busy", wait_time_in_seconds=0.05):
            log.append(f"{name} in")
            await asyncio.sleep(0.3)
            log.append(f"{name} out")

    async def run() -> None:
        await asyncio.gather(request("first", 0), request("second", 0.1), request("third", 0.2))

    asyncio.run(asyncio.wait_for(run(), timeout=10))
    assert log == ["first in", "first out", "second in", "second out", "third in", "third out"]
    assert not redis_client.exists(store.key_prefix + "busy")


def test_lock_store_without_redis_lets_the_conversation_go_on() -> None:
    store = ExpiringRedisLockStore(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens

    async def run() -> str:
        async with store.lock("offline", wait_time_in_seconds=0.05):
            return "answered"

    assert asyncio.run(asyncio.wait_for(run(), timeout=10)) == "answered"


def test_event_lookup_speedup_resolves_like_rasa() -> None:
    speedups.install_event_lookup()
    for cls in (UserUttered, BotUttered, ActionExecuted, SlotSet):
        assert Event.resolve_by_type(cls.type_name) is cls
    assert Event.resolve_by_type("no_such_event", default=SlotSet) is SlotSet
    with pytest.raises(ValueError):
        Event.resolve_by_type("no_such_event")


@pytest.mark.parametrize("file, cls", [("endpoints.yml", PrivateInMemoryTrackerStore),
                                       ("endpoints.redis.yml", PrivateRedisTrackerStore)])
def test_endpoints_load_our_stores(file: str, cls: type, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rasa falls back to its own in-memory store, with only a warning, when a configured class
    fails to load: that store would keep conversations unredacted until the process ends."""
    from rasa.core.tracker_store import TrackerStore
    from rasa.core.utils import AvailableEndpoints

    monkeypatch.setenv("REDIS_URL", REDIS_TEST_URL)
    endpoints = AvailableEndpoints.read_endpoints(str(ROOT / file))
    store = TrackerStore.create(endpoints.tracker_store, Domain.empty())
    assert type(getattr(store, "_tracker_store", store)) is cls
