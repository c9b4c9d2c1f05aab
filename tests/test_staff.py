"""Staff pages: no page or export without a login, lockout, cookie flags, the widget's event
endpoints; and end to end on the real stack: scripted conversations are folded into counts that
the pages and exports show with small counts as "<5", and the flow store holds no text or id."""

from __future__ import annotations

import asyncio
import csv
import io
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import yaml
from aiohttp.test_utils import TestClient, TestServer

from bot import flows, gateway, launch
from bot.flows import report as flow_report
from bot.flows import store as flow_store
from bot.launch import Stack
from bot.staff import auth as staff
from tests.conftest import ROOT
from tests.conftest import say as conftest_say

PASSWORD = "riktig hest batteri stift"
HASH = staff.hash_password(PASSWORD)
PAGES = ["/staff", "/staff/flyt", "/staff/tillit"]
EXPORTS = ["/staff/export.csv", "/staff/export/stories.yml"]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VONR_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("STAFF_PASSWORD_HASH", HASH)
    monkeypatch.delenv("REDIS_URL", raising=False)
    return tmp_path


@pytest_asyncio.fixture(loop_scope="function")
async def client(env: Path) -> AsyncIterator[TestClient]:
    app = gateway.create_app(rasa_url="http://127.0.0.1:9", actions_url="http://127.0.0.1:9")
    async with TestClient(TestServer(app)) as c:
        yield c


async def login(client: TestClient, password: str = PASSWORD,
                headers: dict[str, str] | None = None) -> Any:
    return await client.post("/staff/login", data={"password": password},
                             allow_redirects=False, headers=headers or {})


def session_cookie(resp: Any) -> SimpleCookie:
    cookies = resp.headers.getall("Set-Cookie", [])
    assert len(cookies) == 1, cookies
    jar = SimpleCookie()
    jar.load(cookies[0])
    assert list(jar) == [staff.COOKIE]
    return jar


async def logged_in(client: TestClient) -> dict[str, str]:
    resp = await login(client)
    assert resp.status == 302 and resp.headers["Location"] == "/staff"
    return {"Cookie": f"{staff.COOKIE}={session_cookie(resp)[staff.COOKIE].value}"}


# ---- passwords --------------------------------------------------------------------------------

def test_hash_format_and_verify() -> None:
    parsed = staff.parse_hash(HASH)
    assert parsed and HASH.startswith("scrypt$") and len(HASH.split("$")) == 3
    assert staff.verify(PASSWORD, parsed)
    assert not staff.verify(PASSWORD + " ", parsed)
    assert staff.hash_password(PASSWORD) != HASH  # salted
    for bad in ("", "scrypt$", "plain", "scrypt$zz$11", "md5$00$11", None):
        assert staff.parse_hash(bad) is None


def test_hash_command_reads_stdin() -> None:
    out = subprocess.run([sys.executable, "-m", "bot.staff", "hash"], input=PASSWORD + "\n",
                         capture_output=True, text=True, cwd=ROOT, check=True).stdout.strip()
    parsed = staff.parse_hash(out)
    assert parsed and staff.verify(PASSWORD, parsed) and PASSWORD not in out
    short = subprocess.run([sys.executable, "-m", "bot.staff", "hash"], input="kort\n",
                           capture_output=True, text=True, cwd=ROOT)
    assert short.returncode == 1 and not short.stdout


# ---- access -----------------------------------------------------------------------------------

async def test_without_a_configured_hash_the_pages_explain(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STAFF_PASSWORD_HASH")
    for path in [*PAGES, *EXPORTS, "/staff/login"]:
        resp = await client.get(path, allow_redirects=False)
        body = await resp.text()
        assert resp.status == 503, path
        assert "STAFF_PASSWORD_HASH" in body and "python -m bot.staff hash" in body
        assert "standardpassord" in body
    resp = await login(client, "")
    assert resp.status == 503 and "Set-Cookie" not in resp.headers


async def test_no_page_or_export_without_login(client: TestClient) -> None:
    for path in PAGES:
        resp = await client.get(path, allow_redirects=False)
        assert resp.status == 302 and resp.headers["Location"] == "/staff/login", path
    for path in EXPORTS:
        resp = await client.get(path, allow_redirects=False)
        assert resp.status == 401, path
        assert "dag" not in await resp.text()
    forged = {"Cookie": f"{staff.COOKIE}=forged-token-value"}
    for path in [*PAGES, *EXPORTS]:
        resp = await client.get(path, allow_redirects=False, headers=forged)
        assert resp.status in (302, 401), path


async def test_wrong_password_is_refused(client: TestClient) -> None:
    resp = await login(client, "feil passord")
    assert resp.status == 401
    assert "Feil passord" in await resp.text()
    assert "Set-Cookie" not in resp.headers
    resp = await login(client, "")
    assert resp.status == 401 and "Set-Cookie" not in resp.headers


async def test_login_cookie_flags_and_pages(client: TestClient) -> None:
    resp = await client.get("/staff/login")
    assert resp.status == 200 and 'type="password"' in await resp.text()
    assert "Set-Cookie" not in resp.headers
    resp = await login(client)
    morsel = session_cookie(resp)[staff.COOKIE]
    assert morsel["httponly"] and morsel["samesite"] == "Strict" and morsel["path"] == "/staff"
    assert not morsel["secure"]  # the test server is on 127.0.0.1
    assert not morsel["max-age"] and not morsel["expires"]  # gone when the browser closes
    assert len(morsel.value) >= 40
    headers = {"Cookie": f"{staff.COOKIE}={morsel.value}"}
    for path in PAGES:
        resp = await client.get(path, headers=headers)
        body = await resp.text()
        assert resp.status == 200, path
        assert "<script" not in body and "style=" not in body and "<style" not in body
        assert '<html lang="nb">' in body and "Logg ut" in body
        csp = resp.headers["Content-Security-Policy"]
        assert "form-action 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "style-src 'self'" in csp and "script-src 'self'" in csp
        assert resp.headers["Cache-Control"] == "no-store"
    for path in EXPORTS:
        resp = await client.get(path, headers=headers)
        assert resp.status == 200 and "attachment" in resp.headers["Content-Disposition"]
    css = await client.get("/staff/staff.css")
    assert css.status == 200 and css.content_type == "text/css"


async def test_cookie_is_secure_off_localhost(client: TestClient) -> None:
    resp = await login(client, headers={"Host": "staff.example.org"})
    assert resp.status == 302
    assert session_cookie(resp)[staff.COOKIE]["secure"]


async def test_cross_site_login_is_refused(client: TestClient) -> None:
    resp = await login(client, headers={"Origin": "https://evil.example"})
    assert resp.status == 403 and "Set-Cookie" not in resp.headers


async def test_wrong_passwords_cost_growing_delay_but_never_lock_out(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(staff, "BASE_DELAY", 0.05)
    monkeypatch.setattr(staff, "MAX_DELAY", 0.8)
    took = []
    for i in range(staff.FREE_FAILURES + 6):
        start = time.monotonic()
        assert (await login(client, f"feil {i}")).status == 401
        took.append(time.monotonic() - start)
    auth: staff.Auth = client.server.app[staff.AUTH]
    assert auth.recent_failures(time.monotonic()) == staff.FREE_FAILURES + 6
    # Free attempts first, then each one waits for the back-off the one before it set.
    assert max(took[: staff.FREE_FAILURES + 1]) < 0.5
    assert took[-1] >= 0.75 and took[-1] > took[staff.FREE_FAILURES + 1]
    # The right password is still checked, after at most the capped delay: no lockout.
    start = time.monotonic()
    resp = await login(client)
    assert resp.status == 302 and staff.COOKIE in resp.headers["Set-Cookie"]
    assert time.monotonic() - start < staff.MAX_DELAY + 1
    assert "127.0.0.1" not in repr(vars(auth))  # no address kept at all


async def test_the_budget_is_global_and_a_flood_gets_429_not_a_lockout(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Behind an ingress every client has the same address, and a guesser may use many: the
    budget is one for all, and an overflow is told to come back in seconds, not minutes."""
    monkeypatch.setattr(staff, "FREE_FAILURES", 0)
    monkeypatch.setattr(staff, "BASE_DELAY", 0.3)
    monkeypatch.setattr(staff, "MAX_DELAY", 0.3)
    monkeypatch.setattr(staff, "MAX_PENDING", 3)
    auth: staff.Auth = client.server.app[staff.AUTH]
    auth.next_check = time.monotonic() + 1.0  # as after a wrong attempt: all six arrive waiting
    flood = [login(client, f"feil {i}", {"X-Forwarded-For": f"198.51.100.{i}"}) for i in range(6)]
    statuses = sorted([r.status for r in await asyncio.gather(*flood)])
    assert statuses.count(401) == 3 and statuses.count(429) == 3, statuses
    resp = await login(client)
    assert resp.status == 302


async def test_logout_ends_the_session(client: TestClient) -> None:
    headers = await logged_in(client)
    assert (await client.get("/staff", headers=headers)).status == 200
    resp = await client.post("/staff/logout", headers=headers, allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/staff/login"
    assert f"{staff.COOKIE}=" in resp.headers["Set-Cookie"]
    resp = await client.get("/staff", headers=headers, allow_redirects=False)
    assert resp.status == 302
    assert (await client.get("/staff/export.csv", headers=headers)).status == 401


async def test_the_public_pages_set_no_cookie(client: TestClient) -> None:
    for path in ["/", "/personvern", "/healthz", "/staff", "/staff/login"]:
        resp = await client.get(path, allow_redirects=False)
        assert "Set-Cookie" not in resp.headers, path


async def test_widget_events(client: TestClient, env: Path) -> None:
    for _ in range(5):
        assert (await client.post("/events/exit")).status == 204
    assert (await client.options("/events/exit")).status == 204
    # No feedback endpoint: nothing asks for it (the widget only counts the quick exit).
    assert (await client.post("/events/feedback", json={"helpful": True})).status == 404
    rep = flow_report.report(flow_store.SQLiteStore(env / "flows.sqlite3"), 1)
    assert rep.total(flows.EXIT) == 5
    headers = await logged_in(client)
    body = await (await client.get("/staff", headers=headers)).text()
    assert "<dt>Hurtigexit brukt</dt><dd>5</dd>" in body


async def test_events_are_rate_limited(client: TestClient) -> None:
    statuses = [(await client.post("/events/exit")).status for _ in range(32)]
    assert statuses.count(204) == 30 and statuses[-1] == 429


# ---- end to end on the real stack ---------------------------------------------------------------

GREETERS = [f"staff-e2e-greet-{i:04d}-abcdef" for i in range(6)]
CRISIS = [f"staff-e2e-crisis-{i:04d}-abcdef" for i in range(2)]
PLANTED_SENDER = "staff-e2e-planted-0001-sender"
TYPED_SENDER = "staff-e2e-typed-0001-commands"
PLANTED = "Zyxwvut Blåbærsyltetøy"


@pytest.fixture(scope="module")
def flows_stack(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    state = tmp_path_factory.mktemp("flows-state")
    s = launch.start(model_path, tmp_path_factory.mktemp("flows-stack-logs"), env={
        "VONR_STATE_DIR": str(state), "STAFF_PASSWORD_HASH": HASH,
        "CONVERSATION_EXPIRY_MINUTES": "0.05",  # 3 s, then the sweep folds
    })
    yield s
    s.stop()


def say(stack: Stack, sender: str, message: str) -> list[dict[str, Any]]:
    return conftest_say(stack, sender, message, timeout=60)


def test_end_to_end_counts_are_shown_and_private(flows_stack: Stack) -> None:
    import requests

    store_path = Path(flows_stack.env["VONR_STATE_DIR"]) / "flows.sqlite3"
    for sender in GREETERS:
        say(flows_stack, sender, "hei")
    for sender in CRISIS:
        replies = say(flows_stack, sender, "han har en kniv og sier han skal drepe meg")
        assert any("112" in r.get("text", "") for r in replies)
    say(flows_stack, PLANTED_SENDER, f"mitt hemmelige ord er {PLANTED} 41234567")
    # Typed, not our buttons: text, so no restart (which would begin a second conversation).
    for typed in ("hei", "/restart", "/restart"):
        say(flows_stack, TYPED_SENDER, typed)
    store = flow_store.SQLiteStore(store_path)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if flow_report.report(store, 1).total(flows.CONVERSATIONS) >= 10:
            break
        time.sleep(0.5)
    rep = flow_report.report(store, 1)
    assert rep.total(flows.CONVERSATIONS) == 10
    assert rep.total(flows.INTENT, "restart") == 0
    greets = rep.total(flows.INTENT, "greet")
    assert greets >= 7
    assert rep.total(flows.CRISIS, "acute") == 2 and rep.total(flows.ESCALATION, "acute") == 2

    # No message text, no conversation id anywhere in the flow store.
    data = b"".join(p.read_bytes() for p in store_path.parent.glob("flows.sqlite3*"))
    for planted in [*GREETERS, *CRISIS, PLANTED_SENDER, "Zyxwvut", "Blåbærsyltetøy",
                    "41234567", "hemmelige", "kniv", "drepe", "hei"]:
        assert planted.encode().lower() not in data.lower(), planted
    assert {p.name for p in store_path.parent.iterdir()} <= {
        "flows.sqlite3", "flows.sqlite3-wal", "flows.sqlite3-shm"}

    web = requests.Session()
    base = flows_stack.gateway
    assert web.get(base + "/staff", allow_redirects=False).status_code == 302
    assert web.get(base + "/staff/export.csv").status_code == 401
    resp = web.post(base + "/staff/login", data={"password": PASSWORD}, allow_redirects=False)
    assert resp.status_code == 302 and staff.COOKIE in web.cookies

    page = web.get(base + "/staff").text
    assert "<dt>Samtaler</dt><dd>10</dd>" in page
    assert f"<tr><td>greet</td><td class=\"n\">{greets}</td></tr>" in page
    assert '<tr><td>Akutt fare</td><td class="n">&lt;5</td><td class="n">&lt;5</td>' in page
    flow = web.get(base + "/staff/flyt").text
    assert "<svg" in flow and "utter_greet" in flow and "crisis_acute" not in flow

    for bad in ("1", "8", "29", "-7", "x", "7.0"):  # fixed windows only
        resp = web.get(base + f"/staff/export.csv?dager={bad}")
        assert resp.status_code == 400 and "dager=7, 30, 90, 365" in resp.text, bad
        assert web.get(base + f"/staff?dager={bad}").status_code == 400
    rows = list(csv.reader(io.StringIO(web.get(base + "/staff/export.csv?dager=7").text)))
    assert rows[0] == ["dag", "måling", "nøkkel", "antall"]
    cells = {(r[1], r[2]): r[3] for r in rows[1:]}
    assert cells[(flows.CONVERSATIONS, flows.TOTAL)] == "10"
    assert cells[(flows.INTENT, "greet")] == str(greets)
    assert cells[(flows.PATH, "greet > utter_greet")] == "6"
    assert cells[(flows.CRISIS, "acute")] == "<5"
    assert cells[(flows.ESCALATION, "acute")] == "<5"
    assert cells[(flows.INTENT, "crisis_acute")] == "<5"
    assert not any(k.startswith("crisis_acute >") for m, k in cells if m == flows.PATH)
    export = "\n".join(",".join(r) for r in rows)
    for planted in [*GREETERS, *CRISIS, PLANTED_SENDER, "Zyxwvut", "kniv"]:
        assert planted not in export

    stories = yaml.safe_load(web.get(base + "/staff/export/stories.yml").text)
    assert {"intent": "greet"} in stories["stories"][0]["steps"]
    assert {"action": "utter_greet"} in stories["stories"][0]["steps"]
    assert "(6 samtaler)" in stories["stories"][0]["story"]

    web.post(base + "/staff/logout")
    assert web.get(base + "/staff", allow_redirects=False).status_code == 302
