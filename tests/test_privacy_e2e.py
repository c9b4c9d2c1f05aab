"""No personal data anywhere: conversations with planted identifiers go through the real stack
with Redis; then every Redis key and value, every log file and every file written in the working
directory is scanned for them. Every key must have a TTL."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from stdnum.no import fodselsnummer

from tests.conftest import ROOT


def valid_fnr(birth: str, individual: str) -> str:
    base = birth + individual
    k1 = fodselsnummer.calc_check_digit1(base)
    k2 = fodselsnummer.calc_check_digit2(base + k1)
    return base + k1 + k2


FNR = valid_fnr("150385", "123")
PLANTED = {
    "fnr": FNR,
    "fnr_spaced": f"{FNR[:6]} {FNR[6:]}",
    "phone": "98 76 54 32",
    "email": "ingrid.solbakken@eksempel.no",
    "address": "Solbakkveien 17",
    "postcode": "0155",
    "name": "Ingrid Solbakken",
    "partner": "Kjetil",
    "card": "4111 1111 1111 1111",
}
# Not personal, but distinctive: message text must not reach any log at INFO or above.
MARKER = "sjiraffepingvin"
MESSAGES = [
    f"{MARKER} hva er et krisesenter",
    f"hei jeg heter {PLANTED['name']} og fødselsnummeret mitt er {PLANTED['fnr']}",
    f"mannen min {PLANTED['partner']} slår meg, ring meg på {PLANTED['phone']}",
    f"jeg bor i {PLANTED['address']}, {PLANTED['postcode']} Oslo, finnes det krisesenter her",
    f"skriv til {PLANTED['email']} eller {PLANTED['fnr_spaced']}",
    f"han tok kortet mitt {PLANTED['card']} hva er økonomisk vold",
]


def post(url: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def needles() -> list[str]:
    values = set(PLANTED.values()) - {PLANTED["postcode"]}
    return sorted(values | {v.replace(" ", "") for v in values if any(c.isdigit() for c in v)})


def test_no_planted_identifier_anywhere(redis_stack: Any, redis_client: Any) -> None:
    started = time.time()
    senders = [uuid.uuid4().hex for _ in range(3)]
    for sender in senders:
        for message in MESSAGES:
            replies = post(redis_stack.gateway + "/webhooks/rest/webhook",
                           {"sender": sender, "message": message})
            assert replies
    # Straight to Rasa as well (not through the gateway): the tracker store redacts on its own.
    direct = {"sender": senders[0], "message": MESSAGES[0]}
    post(redis_stack.rasa + "/webhooks/rest/webhook", direct)

    keys = redis_client.keys("*")
    assert keys, "nothing was written to Redis: is the Redis tracker store in use?"
    haystack: list[tuple[str, str]] = []
    for key in keys:
        ttl = redis_client.ttl(key)
        assert ttl > 0, f"key {key!r} has no expiry"
        kind = redis_client.type(key).decode()
        if kind == "string":
            value = redis_client.get(key) or b""
        elif kind == "hash":
            pairs = redis_client.hgetall(key).items()
            value = json.dumps({k.decode(): v.decode() for k, v in pairs}).encode()
        elif kind == "zset":
            value = json.dumps([m.decode() for m in redis_client.zrange(key, 0, -1)]).encode()
        elif kind == "set":
            value = json.dumps(sorted(m.decode() for m in redis_client.smembers(key))).encode()
        else:
            value = json.dumps([m.decode() for m in redis_client.lrange(key, 0, -1)]).encode()
        text = key.decode(errors="replace") + value.decode(errors="replace")
        haystack.append((f"redis {key!r}", text))

    # The tracker holds the redacted text, so the conversation did reach Redis.
    assert any("[telefon]" in text and "[navn]" in text for _, text in haystack)
    for log in redis_stack.logs.glob("*"):
        haystack.append((f"log {log.name}", log.read_text(errors="replace")))
    state = Path(redis_stack.env["VONR_STATE_DIR"])
    written = [p for base in (ROOT, state) for p in base.rglob("*")
               if p.is_file() and ".git" not in p.parts and p.stat().st_mtime >= started]
    for path in written:
        haystack.append((f"file {path}", path.read_bytes().decode(errors="replace")))

    hits = [(where, n) for where, text in haystack for n in needles() if n in text]
    assert hits == []
    logged = [where for where, text in haystack if where.startswith("log") and MARKER in text]
    assert logged == [], "message text reached a log"


def test_gateway_passes_no_metadata_to_rasa(redis_stack: Any, redis_client: Any) -> None:
    sender = uuid.uuid4().hex
    post(redis_stack.gateway + "/webhooks/rest/webhook", {"sender": sender, "message": "hei"})
    keys = [k for k in redis_client.keys(f"*{sender}") if b"lock" not in k]
    assert len(keys) == 1, keys
    raw = redis_client.get(keys[0])
    events = json.loads(raw)["events"]
    users = [e for e in events if e["event"] == "user"]
    allowed = {"model_id", "assistant_id"}
    assert users and all(set(e.get("metadata") or {}) <= allowed for e in users)
    assert 25 * 60 < redis_client.ttl(keys[0]) <= 30 * 60
