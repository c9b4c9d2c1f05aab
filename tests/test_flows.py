"""The flow recorder and its stores: only the shape of a conversation is counted, per day, never
text, ids or times finer than the day; small counts are shown as "<k"; every Redis key expires."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from bot import flows
from bot.crisis_contract import CATEGORIES, FALLBACK_INTENT, PARSE_KEY, RESPONSE_PREFIX
from bot.flows import recorder as flow_recorder
from bot.flows import report as flow_report
from bot.flows import store as flow_store
from tests.conftest import REDIS_TEST_URL

SENDER = "Planted_Sender_Id_9f3k2"
NAME = "Kari Nordmann"
PHONE = "98765432"
TEXT = f"Jeg heter {NAME} og nummeret mitt er {PHONE}"
PLANTED = [SENDER, NAME, "Kari", "Nordmann", PHONE, "heter", "nummeret"]
PREFIX = "vonr-test:flows:"


def user(sender: str, intent: str, confidence: float = 0.9, text: str = TEXT,
         crisis: dict[str, Any] | None = None) -> dict[str, Any]:
    parse: dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": [{"entity": "audience", "value": NAME, "start": 0, "end": 4}],
        "intent_ranking": [{"name": intent, "confidence": confidence}],
    }
    if crisis is not None:
        parse[PARSE_KEY] = crisis
    return {"sender_id": sender, "event": "user", "timestamp": 1763700000.123456, "text": text,
            "parse_data": parse, "input_channel": "rest", "message_id": "a1b2c3d4e5",
            "metadata": {"name": NAME}}


def action(sender: str, name: str) -> dict[str, Any]:
    return {"sender_id": sender, "event": "action", "timestamp": 1763700001.5, "name": name,
            "policy": "RulePolicy", "confidence": 1.0, "action_text": None,
            "hide_rule_turn": False}


def bot(sender: str, text: str = f"Hei {NAME}") -> dict[str, Any]:
    return {"sender_id": sender, "event": "bot", "timestamp": 1763700002.0, "text": text,
            "data": {"buttons": [{"title": NAME, "payload": "/greet"}]},
            "metadata": {"utter_action": "utter_greet"}}


def conversation(sender: str, *steps: tuple[str, str]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [
        {"sender_id": sender, "event": "action", "name": "action_session_start",
         "timestamp": 1763699999.0},
        {"sender_id": sender, "event": "session_started", "timestamp": 1763699999.1},
        {"sender_id": sender, "event": "slot", "name": "audience", "value": NAME,
         "timestamp": 1763699999.2},
        action(sender, "action_listen"),
    ]
    for kind, name in steps:
        if kind == "intent":
            events.append(user(sender, name))
            events.append(action(sender, "action_extract_slots"))
        else:
            events.append(action(sender, name))
            events.append(bot(sender))
            events.append(action(sender, "action_listen"))
    return events


GREET = (("intent", "greet"), ("action", "utter_greet"))


@pytest.fixture
def store(tmp_path: Path) -> flow_store.SQLiteStore:
    return flow_store.SQLiteStore(tmp_path / "flows.sqlite3")


def feed(rec: flow_recorder.FlowRecorder, events: list[dict[str, Any]]) -> None:
    for e in events:
        rec.publish(e)


def everything(store: flow_store.Store) -> flows.Counts:
    return store.read([flows.today()])


def scan_sqlite(path: Path) -> bytes:
    data = b""
    for p in path.parent.glob(path.name + "*"):  # the file, its -wal and -shm
        data += p.read_bytes()
    return data


def test_counts_only_the_shape(store: flow_store.SQLiteStore, tmp_path: Path) -> None:
    rec = flow_recorder.FlowRecorder(store, expiry=0)
    feed(rec, conversation(SENDER, *GREET, ("intent", "krisesenter"),
                           ("action", "utter_info_krisesenter")))
    assert everything(store) == {}  # nothing is counted while the conversation is open
    assert rec.sweep() == 1
    day = flows.today()
    counts = everything(store)
    assert counts[(day, flows.CONVERSATIONS, flows.TOTAL)] == 1
    assert counts[(day, flows.TURNS, flows.TOTAL)] == 2
    assert counts[(day, flows.INTENT, "greet")] == 1
    assert counts[(day, flows.CONF, "greet")] == 9  # 0.9 in tenths
    assert counts[(day, flows.TRANSITION, "greet > utter_greet")] == 1
    assert counts[(day, flows.TRANSITION, "utter_greet > krisesenter")] == 1
    path = "greet > utter_greet > krisesenter > utter_info_krisesenter"
    assert counts[(day, flows.PATH, path)] == 1
    skipped = ("action_listen", "action_session_start", "action_extract_slots")
    assert not any(s in k for (_, _, k) in counts for s in skipped)
    assert rec.open == {}


def test_no_text_ids_or_times_in_the_sqlite_file(store: flow_store.SQLiteStore) -> None:
    rec = flow_recorder.FlowRecorder(store, expiry=0)
    for i in range(3):
        feed(rec, conversation(f"{SENDER}{i}", *GREET))
    rec.publish(user(SENDER, "/kari_nordmann"))  # a payload makes up an intent name
    rec.sweep()
    data = scan_sqlite(store.path)
    assert data  # the file exists and has the counts
    for planted in [*PLANTED, "kari_nordmann", "a1b2c3d4e5", "1763700000", "rest"]:
        assert planted.encode() not in data, planted
        assert planted.lower().encode() not in data.lower(), planted
    with store.connect() as db:
        keys = [r[0] for r in db.execute("SELECT DISTINCT key FROM counts")]
        days = {r[0] for r in db.execute("SELECT DISTINCT day FROM counts")}
    assert flows.UNKNOWN in keys
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in days)


def test_in_memory_state_holds_no_id_or_text(store: flow_store.SQLiteStore) -> None:
    rec = flow_recorder.FlowRecorder(store, expiry=3600)
    feed(rec, conversation(SENDER, *GREET))
    assert SENDER not in rec.open
    (key, conv), = rec.open.items()
    assert key == rec.conversation_key(SENDER) and re.fullmatch(r"[0-9a-f]{64}", key)
    dump = repr(vars(conv))
    for planted in PLANTED:
        assert planted not in dump
    # Another process (another key) cannot link the same sender.
    assert flow_recorder.FlowRecorder(store).conversation_key(SENDER) != key


def test_fold_on_expiry(store: flow_store.SQLiteStore) -> None:
    rec = flow_recorder.FlowRecorder(store, expiry=0.3)
    feed(rec, conversation(SENDER, *GREET))
    assert rec.sweep() == 0
    assert everything(store) == {}
    time.sleep(0.35)
    rec.publish(user("another_sender_abcdef", "greet"))  # fresh: stays open
    assert rec.sweep() == 1
    assert everything(store)[(flows.today(), flows.CONVERSATIONS, flows.TOTAL)] == 1
    assert len(rec.open) == 1
    assert rec.sweep(everything=True) == 1
    assert everything(store)[(flows.today(), flows.CONVERSATIONS, flows.TOTAL)] == 2


def test_activity_keeps_a_conversation_open(store: flow_store.SQLiteStore) -> None:
    rec = flow_recorder.FlowRecorder(store, expiry=0.3)
    for _ in range(3):
        rec.publish(user(SENDER, "greet"))
        time.sleep(0.15)
        assert rec.sweep() == 0
    time.sleep(0.35)
    assert rec.sweep() == 1
    assert everything(store)[(flows.today(), flows.TURNS, flows.TOTAL)] == 3


def test_new_session_folds_the_old_one(store: flow_store.SQLiteStore) -> None:
    rec = flow_recorder.FlowRecorder(store, expiry=3600)
    feed(rec, conversation(SENDER, *GREET))
    feed(rec, conversation(SENDER, ("intent", "goodbye"), ("action", "utter_goodbye")))
    counts = everything(store)
    day = flows.today()
    assert counts[(day, flows.CONVERSATIONS, flows.TOTAL)] == 1
    assert counts[(day, flows.PATH, "greet > utter_greet")] == 1
    rec.sweep(everything=True)
    assert everything(store)[(day, flows.PATH, "goodbye > utter_goodbye")] == 1


def test_flags_fallback_crisis_escalation(store: flow_store.SQLiteStore) -> None:
    rec = flow_recorder.FlowRecorder(store, expiry=0)
    s = SENDER
    feed(rec, [
        user(s, "nlu_fallback", 0.3), action(s, "utter_default"),  # one fallback turn
        user(s, "greet", 0.95), action(s, "utter_default"),  # a fallback by policy
        user(s, "crisis_acute", 1.0, crisis={"categories": ["acute", "child", "made_up"],
                                              "negated": False, "lang": "nb"}),
        action(s, "utter_crisis_acute"), action(s, "utter_check_safe"),
        user(s, "greet", 0.9, crisis={"categories": ["suicide"], "negated": True}),
    ])
    rec.sweep()
    c = everything(store)
    day = flows.today()
    assert c[(day, flows.FALLBACK_TURNS, flows.TOTAL)] == 2
    assert c[(day, flows.FALLBACK_CONVERSATIONS, flows.TOTAL)] == 1
    assert c[(day, flows.CRISIS, "acute")] == 1
    assert c[(day, flows.CRISIS, "child")] == 1
    assert (day, flows.CRISIS, "made_up") not in c
    assert c[(day, flows.CRISIS_NEGATED, "suicide")] == 1
    assert c[(day, flows.ESCALATION, "acute")] == 1
    assert (day, flows.ESCALATION, "child") not in c


def test_the_names_the_counts_single_out_are_the_domains() -> None:
    """Intents, actions and crisis categories come from the domain (bot/content.py, no Rasa core);
    the few names the counts single out must be among them, or they would never be counted."""
    names = flows.names()
    assert FALLBACK_INTENT in names.intents
    assert set(flows.FALLBACK_ACTIONS | flow_recorder.SKIP_ACTIONS) - names.actions == set()
    assert names.crisis and set(names.crisis) <= set(CATEGORIES)
    assert {RESPONSE_PREFIX + c for c in names.crisis} <= names.actions  # escalations


def test_paths_are_capped(store: flow_store.SQLiteStore) -> None:
    rec = flow_recorder.FlowRecorder(store, expiry=0)
    feed(rec, conversation(SENDER, *(GREET * 10)))
    rec.sweep()
    (path,) = [k for (_, m, k) in everything(store) if m == flows.PATH]
    steps = path.split(flows.SEP)
    assert len(steps) == flows.PATH_CAP + 1 and steps[-1] == flows.TRUNCATED


def test_k_anonymity_in_one_place(store: flow_store.SQLiteStore, monkeypatch: Any) -> None:
    assert flows.shown(4, 5) == "<5" and flows.shown(0, 5) == "<5" and flows.shown(5, 5) == "5"
    monkeypatch.setenv("FLOWS_K", "3")
    assert flows.shown(2) == "<3"
    monkeypatch.delenv("FLOWS_K")
    rec = flow_recorder.FlowRecorder(store, expiry=0)
    for i in range(6):
        feed(rec, conversation(f"greeter_{i:012d}", *GREET))
    for i in range(2):
        feed(rec, conversation(f"crisis_{i:013d}", ("intent", "crisis_suicide"),
                               ("action", "utter_crisis_suicide")))
    rec.sweep()
    rep = flow_report.report(store, days=7)
    assert rep.k == 5
    common, rare = rep.common_paths()
    assert common == [("greet > utter_greet", 6)] and rare == 2
    rows = flow_report.csv_rows(rep)
    cells = {(r[1], r[2]): r[3] for r in rows[1:]}
    assert cells[(flows.INTENT, "greet")] == "6"
    assert cells[(flows.INTENT, "crisis_suicide")] == "<5"
    assert cells[(flows.ESCALATION, "suicide")] == "<5"
    assert cells[(flows.CONVERSATIONS, flows.TOTAL)] == "8"
    assert cells[(flows.PATH, "(sjeldnere stier til sammen)")] == "<5"
    assert (flows.PATH, "crisis_suicide > utter_crisis_suicide") not in cells
    assert all(r[3] not in ("1", "2", "3", "4") for r in rows[1:] if r[1] != "snitt_tillit")
    assert dict((n, c) for n, c, _ in rep.mean_confidence())["crisis_suicide"] == "<5"
    assert rep.fallback_rate() == "–"
    stories = yaml.safe_load(flow_report.stories_yaml(rep))
    assert stories["stories"] == [{"story": "vanlig sti 1 (6 samtaler)",
                                   "steps": [{"intent": "greet"}, {"action": "utter_greet"}]}]


def test_widget_events_are_counted_per_day(store: flow_store.SQLiteStore) -> None:
    for _ in range(5):
        flow_store.record_event(store, flows.EXIT)
    rep = flow_report.report(store, 1)
    assert rep.total(flows.EXIT) == 5
    assert flows.shown(rep.total(flows.EXIT)) == "5"


def test_retention_deletes_old_days(store: flow_store.SQLiteStore, monkeypatch: Any) -> None:
    store.add({("2000-01-01", flows.EXIT, flows.TOTAL): 9})
    store.add({(flows.today(), flows.EXIT, flows.TOTAL): 1})
    with store.connect() as db:
        assert db.execute("SELECT COUNT(*) FROM counts WHERE day < '2001'").fetchone()[0] == 0


def test_broker_as_rasa_loads_it(tmp_path: Path, monkeypatch: Any) -> None:
    from rasa.core.brokers.broker import EventBroker
    from rasa.utils.endpoints import EndpointConfig

    monkeypatch.setenv("VONR_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("CONVERSATION_EXPIRY_MINUTES", "0.005")  # 0.3 s
    monkeypatch.delenv("REDIS_URL", raising=False)

    async def run() -> None:
        broker = await EventBroker.create(EndpointConfig(type="bot.flows.recorder.FlowBroker"))
        assert isinstance(broker, flow_recorder.FlowBroker)
        for e in conversation(SENDER, *GREET):
            broker.publish(e)
        store = flow_store.SQLiteStore(tmp_path / "flows.sqlite3")
        deadline = time.monotonic() + 5
        while not everything(store) and time.monotonic() < deadline:  # the sweep thread
            await asyncio.sleep(0.1)
        assert everything(store)[(flows.today(), flows.CONVERSATIONS, flows.TOTAL)] == 1
        broker.publish(user(SENDER, "goodbye"))
        await broker.close()  # folds what is open
        assert everything(store)[(flows.today(), flows.CONVERSATIONS, flows.TOTAL)] == 2

    asyncio.run(run())


def test_broker_never_raises(store: flow_store.SQLiteStore, caplog: pytest.LogCaptureFixture,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Counting never breaks a conversation: malformed events and a failing recorder are logged
    and skipped, and the broker goes on counting the next conversation."""
    broker = flow_recorder.FlowBroker(store, expiry=3600)
    for bad in ({}, {"event": "user"}, {"sender_id": 5, "event": "user"},
                {"sender_id": SENDER, "event": "user", "parse_data": {"intent": "x"}},
                {"sender_id": SENDER, "event": "user", "parse_data": {
                    "intent": {"name": "greet", "confidence": "high"}, "crisis": ["acute"]}}):
        broker.publish(bad)

    def fail(event: dict[str, Any]) -> None:
        raise RuntimeError("store down")

    with monkeypatch.context() as m, caplog.at_level("WARNING", logger="vonr.flows"):
        m.setattr(broker.recorder, "publish", fail)
        broker.publish(user("Another_Sender_7q", "greet"))
    assert "could not record a flow step" in caplog.text
    for event in conversation("Third_Sender_2m", ("intent", "krisesenter"),
                              ("action", "utter_info_krisesenter")):
        broker.publish(event)
    asyncio.run(broker.close())
    assert everything(store)[(flows.today(), flows.INTENT, "krisesenter")] == 1


# ---- Redis -------------------------------------------------------------------------------------

@pytest.fixture
def redis_store(redis_client: redis.Redis) -> Iterator[tuple[flow_store.RedisStore, redis.Redis]]:
    """A flow store on the tests' Redis database (a missing Redis fails, as everywhere else)."""

    def clean() -> None:
        for key in redis_client.scan_iter(match=PREFIX + "*"):
            redis_client.delete(key)

    clean()
    yield flow_store.RedisStore(REDIS_TEST_URL, prefix=PREFIX), redis_client
    clean()


def test_redis_store_counts_expire_and_hold_no_text(redis_store: Any, monkeypatch: Any) -> None:
    store, client = redis_store
    monkeypatch.setenv("FLOWS_RETENTION_DAYS", "30")
    rec = flow_recorder.FlowRecorder(store, expiry=0)
    for i in range(6):
        feed(rec, conversation(f"{SENDER}{i}", *GREET))
    feed(rec, conversation(SENDER, ("intent", "crisis_acute"), ("action", "utter_crisis_acute")))
    rec.sweep()
    flow_store.record_event(store, flows.EXIT)
    rep = flow_report.report(store, 7)
    assert rep.total(flows.CONVERSATIONS) == 7
    assert flows.shown(rep.total(flows.ESCALATION, "acute")) == "<5"
    keys = list(client.scan_iter(match=PREFIX + "*"))
    assert keys
    blob = b""
    for key in keys:
        ttl = client.ttl(key)
        assert 0 < ttl <= 30 * 86400, (key, ttl)
        assert re.fullmatch(rb"vonr-test:flows:\d{4}-\d{2}-\d{2}:[a-z_]+", key), key
        blob += key + repr(client.hgetall(key)).encode()
    for planted in [*PLANTED, "1763700000"]:
        assert planted.lower().encode() not in blob.lower(), planted

