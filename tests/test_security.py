"""The holes a security and privacy probe found (issue 18), each tried again: the action server and
Rasa off the network, personal data past redaction into Redis, typed commands, sender ids that
are personal data, the 429 reply, the Server header, /readyz, and on the real stack."""

from __future__ import annotations

import json
import socket
import subprocess
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from bot import gateway, registry
from tests.conftest import Stack

WEBHOOK = "/webhooks/rest/webhook"


# ---- the gateway alone ---------------------------------------------------------------------------

@pytest_asyncio.fixture(loop_scope="function")
async def client() -> Any:
    app = gateway.create_app(rasa_url="http://127.0.0.1:9", actions_url="http://127.0.0.1:9")
    async with TestClient(TestServer(app)) as c:
        yield c


async def test_429_names_vo_linjen_and_has_call_buttons(client: TestClient) -> None:
    body = {"sender": "a1b2c3d4e5f6", "message": "hei"}
    for _ in range(30):
        await client.post(WEBHOOK, json=body)
    resp = await client.post(WEBHOOK, json=body)
    assert resp.status == 429
    reply = await resp.json()
    vo, em = registry.load()["vo_linjen"], registry.load()["police_emergency"]
    assert vo.phone_display in reply["error"] and em.phone_display in reply["error"]
    assert reply["buttons"] == gateway.helpline_card()[0]["buttons"]
    assert {b["payload"] for b in reply["buttons"]} == {f"tel:{vo.phone}", f"tel:{em.phone}"}


@pytest.mark.parametrize("sender", ["4791234567", "004791234567", "kari_nordmann_1990",
                                    "kari_91234567", "ola-hansen-x9x9x9"])
async def test_personal_sender_ids_are_refused_in_bokmal(client: TestClient, sender: str) -> None:
    resp = await client.post(WEBHOOK, json={"sender": sender, "message": "hei"})
    assert resp.status == 400
    text = await resp.text()
    assert "telefonnummer eller et navn" in json.loads(text)["error"]
    assert sender not in text


async def test_random_sender_ids_pass(client: TestClient) -> None:
    # The widget's ids (24 random characters of [A-Za-z0-9_-]) and hex uuids.
    for sender in ("Xk3_q9LmZ-0aB7cD1eF2gH3i", uuid.uuid4().hex, "a1b2c3d4e5"):
        resp = await client.post(WEBHOOK, json={"sender": sender, "message": "hei"})
        assert resp.status == 503, sender  # past validation; nothing behind the gateway


async def test_server_header_names_no_software(client: TestClient) -> None:
    for resp in (await client.get("/healthz"), await client.get("/finnes-ikke")):
        server = resp.headers.get("Server", "")
        assert "aiohttp" not in server.lower() and "python" not in server.lower(), server


async def test_readyz_only_from_this_machine(client: TestClient) -> None:
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/readyz")).status == 503  # loopback: the checks (nothing runs)
    for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):
        resp = await client.get("/readyz", headers={header: "203.0.113.7"})
        assert resp.status == 404, header
        assert "checks" not in await resp.text()


def test_only_the_domains_own_buttons_pass_as_commands() -> None:
    payloads = gateway.button_payloads()
    assert '/inform_audience{"audience":"child"}' in payloads and "/krisesenter" in payloads
    assert "/restart" not in payloads and not any(p.startswith("/crisis") for p in payloads)
    for payload in payloads:
        assert gateway.as_text(payload) == payload
    assert gateway.as_text("/restart") == "restart"
    assert gateway.as_text('/inform{"navn":"trude olsen"}') == "inform"
    assert gateway.as_text("/crisis_trafficking@1.0") == "crisis trafficking"
    assert gateway.as_text("//  /ring meg på 91234567") == "ring meg på [telefon]"


# ---- the real stack ----------------------------------------------------------------------------

def own_addresses() -> list[str]:
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [a for a in out.split() if a and not a.startswith("127.") and a != "::1"]


def answers(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(3)
        return s.connect_ex((host, port)) == 0


def port_of(url: str) -> int:
    return urllib.parse.urlsplit(url).port or 80


def test_only_the_gateway_answers_off_loopback(redis_stack: Stack) -> None:
    addresses = own_addresses()
    if not addresses:
        pytest.skip("this machine has no address but loopback (hostname -I)")
    for address in addresses:
        assert not answers(address, port_of(redis_stack.rasa)), f"Rasa on {address}"
        assert not answers(address, port_of(redis_stack.actions)), f"actions on {address}"
    # The gateway listens on every IPv4 address (HOST=0.0.0.0), but /readyz is not for them.
    for address in [a for a in addresses if ":" not in a]:
        assert answers(address, port_of(redis_stack.gateway)), address
        url = f"http://{address}:{port_of(redis_stack.gateway)}"
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(url + "/readyz", timeout=10)
        assert err.value.code == 404
        with urllib.request.urlopen(url + "/healthz", timeout=10) as resp:
            assert resp.status == 200
    # ... while on loopback all three answer.
    for url in (redis_stack.gateway + "/healthz", redis_stack.rasa + "/",
                redis_stack.actions + "/health"):
        with urllib.request.urlopen(url, timeout=10) as resp:
            assert resp.status == 200, url


def post(stack: Stack, sender: str, message: str) -> list[dict[str, Any]]:
    req = urllib.request.Request(
        stack.gateway + WEBHOOK, data=json.dumps({"sender": sender, "message": message}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


# Every new redaction case of issue 18, as a person would write it, and what must not be stored.
PLANTED = [
    ("fnr 150765 005 65", ["150765 005 65", "15076500565"]),
    ("ring meg på 912.34.567 eller 91.23.45.67", ["912.34.567", "91.23.45.67", "91234567"]),
    ("mobilen min er ９１８ ７６ ５４３", ["918 76 543", "91876543", "９１８"]),
    ("kontoen er NO93 8601 1117 947 og NO9386011117947", ["NO93 8601", "86011117947"]),
    ("han kjører en bil med skilt EL 12345", ["EL 12345", "EL12345"]),
    ("jeg bor i Granbakkveien", ["Granbakkveien"]),
    ("mannen min heter sigvart", ["sigvart"]),
    ("Gunnhild Tveitereid slår meg", ["Gunnhild", "Tveitereid"]),
    # Needles long enough not to turn up by chance in the hex ids and timestamps Rasa stores
    # ("8a2e" alone did once).
    ("han logger inn fra 10.23.45.67 og 2001:db8::8a2e:370:7334", ["10.23.45.67", "8a2e:370",
                                                                  "2001:db8"]),
    ("skriv til kari (at) eksempelpost", ["eksempelpost"]),
    ("han følger meg som @snusmumrikk_77", ["snusmumrikk"]),
    ("han tok passet mitt, passnummer FH7654321", ["FH7654321"]),
    ('/inform{"navn":"Trude Olsen"}', ["Trude", "Olsen"]),
]


def redis_text(client: Any) -> str:
    parts = []
    for key in client.keys("*"):
        kind = client.type(key).decode()
        if kind == "string":
            value = client.get(key) or b""
        elif kind == "hash":
            value = json.dumps({k.decode(): v.decode()
                                for k, v in client.hgetall(key).items()}).encode()
        elif kind == "zset":
            value = json.dumps([m.decode() for m in client.zrange(key, 0, -1)]).encode()
        elif kind == "set":
            value = json.dumps([m.decode() for m in client.smembers(key)]).encode()
        else:
            value = json.dumps([m.decode() for m in client.lrange(key, 0, -1)]).encode()
        parts.append(key.decode(errors="replace") + "\n" + value.decode(errors="replace"))
    # Stored JSON escapes non-ASCII: decode it so «９» is searched as itself.
    return "\n".join(parts).encode().decode("unicode_escape", errors="replace")


def test_new_redaction_cases_never_reach_redis(redis_stack: Stack, redis_client: Any) -> None:
    sender = uuid.uuid4().hex
    for message, _ in PLANTED:
        assert post(redis_stack, sender, message)
    stored = redis_text(redis_client)
    assert sender in stored, "the conversation did not reach Redis"
    for kind in ("fødselsnummer", "telefon", "kontonummer", "bilnummer", "adresse", "navn",
                 "ip-adresse", "e-post", "brukernavn", "passnummer"):
        assert f"[{kind}]" in stored, kind
    hits = [n for _, needles in PLANTED for n in needles if n.lower() in stored.lower()]
    assert hits == []


def tracker(client: Any, sender: str) -> list[dict[str, Any]]:
    keys = [k for k in client.keys(f"*{sender}") if b"lock" not in k]
    assert len(keys) == 1, keys
    return json.loads(client.get(keys[0]))["events"]


def test_typed_commands_are_text(redis_stack: Stack, redis_client: Any) -> None:
    sender = uuid.uuid4().hex
    post(redis_stack, sender, "hei")
    post(redis_stack, sender, '/inform_audience{"audience":"child"}')  # our own button: a command
    for typed in ("/restart", "/crisis_trafficking", '/inform{"navn":"Trude Olsen"}'):
        post(redis_stack, sender, typed)
    events = tracker(redis_client, sender)
    users = [e for e in events if e["event"] == "user"]
    assert [u["text"] for u in users] == [
        "hei", '/inform_audience{"audience":"child"}', "restart", "crisis trafficking", "inform"]
    # The button set its slot; nothing typed restarted the conversation, and what was typed went
    # through the NLU («crisis trafficking» is a crisis word to the crisis check, as it should
    # be: that is text, not a command).
    assert any(e["event"] == "slot" and e.get("name") == "audience" and e["value"] == "child"
               for e in events)
    assert not any(e["event"] in ("restart", "restarted") for e in events)
    for u in (users[2], users[4]):
        intent = u["parse_data"]["intent"]
        assert intent.get("name") not in ("restart", "inform"), u
        assert intent.get("confidence", 0) < 1.0 or intent.get("name") == "nlu_fallback", u
    assert not any(u["parse_data"].get("entities") for u in users[2:])
    assert "Trude" not in json.dumps(events) and "Olsen" not in json.dumps(events)
