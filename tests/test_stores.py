"""The tracker stores (bot/stores.py): what they keep, what they hand the event broker, when they
forget. In-memory and against the real Redis; the stack-level tests (privacy e2e, scale, faults)
cover them inside Rasa."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from rasa.core.brokers.broker import EventBroker
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import speedups
from bot.stores import PrivateInMemoryTrackerStore, PrivateRedisTrackerStore, merge_events
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
