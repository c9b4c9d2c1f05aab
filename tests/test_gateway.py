"""The gateway's HTTP contract: input validation, security headers, CORS, static pages and the
helpline card when Rasa cannot answer. No fakes: "Rasa down" is a real closed port; the test
that needs real answers uses the `stack` fixture (the running product)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from html.parser import HTMLParser
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot import content, gateway, registry

STATIC = Path(gateway.__file__).resolve().parent / "static"
ROOT = STATIC.parent.parent
WEBHOOK = "/webhooks/rest/webhook"
SENDER = "testSender_0123456789"
ORIGIN = "https://embed.example.no"
BOKMAL_HINT = re.compile(r"[æøåÆØÅ]|\b(ikke|er|og|på|med|meldingen)\b")
REQUIRED_HEADERS = {
    "Content-Security-Policy": "script-src 'self'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}


@pytest.fixture(scope="module")
def closed_port() -> Iterator[int]:
    """A port bound but never listening: connections are refused for as long as we hold it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


@pytest_asyncio.fixture(loop_scope="function")
async def client(closed_port: int) -> AsyncIterator[TestClient]:
    app = gateway.create_app(
        rasa_url=f"http://127.0.0.1:{closed_port}", actions_url=f"http://127.0.0.1:{closed_port}",
        origins=[ORIGIN], exit_to="/neutral",
    )
    async with TestClient(TestServer(app)) as c:
        yield c


def assert_secure(resp: aiohttp.ClientResponse) -> None:
    for name, expected in REQUIRED_HEADERS.items():
        assert expected in resp.headers.get(name, ""), (resp.url, resp.status, name, resp.headers)
    csp = resp.headers["Content-Security-Policy"]
    assert "style-src 'self'" in csp and "unsafe-inline" not in csp
    assert "Set-Cookie" not in resp.headers, (resp.url, resp.status)


async def post_raw(client: TestClient, body: bytes, **kw: object) -> aiohttp.ClientResponse:
    return await client.post(WEBHOOK, data=body, headers={"Content-Type": "application/json"}, **kw)


async def assert_error(resp: aiohttp.ClientResponse, status: int, *words: str) -> str:
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/json"
    assert_secure(resp)
    message = (await resp.json())["error"]
    assert BOKMAL_HINT.search(message), message
    for w in words:
        assert w in message.lower(), message
    return message


# ---- validation ------------------------------------------------------------------------------

async def test_oversized_body_is_413_in_bokmal(client: TestClient) -> None:
    big = json.dumps({"sender": SENDER, "message": "a" * (gateway.MAX_BODY_BYTES + 10)}).encode()
    await assert_error(await post_raw(client, big), 413, "for lang")


async def test_oversized_chunked_body_without_length_is_413(client: TestClient) -> None:
    big = json.dumps({"sender": SENDER, "message": "a" * (gateway.MAX_BODY_BYTES + 10)}).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(big), 4096):
            yield big[i : i + 4096]

    await assert_error(await post_raw(client, chunks()), 413, "for lang")  # type: ignore[arg-type]


async def test_message_over_the_character_limit_is_413(client: TestClient) -> None:
    body = json.dumps({"sender": SENDER, "message": "ø" * (gateway.MAX_MESSAGE_CHARS + 1)})
    msg = await assert_error(await post_raw(client, body.encode()), 413, "for lang")
    assert str(gateway.MAX_MESSAGE_CHARS) in msg


@pytest.mark.parametrize("message", ["", "   ", "\n\t ", "\u200b\u0000\u0007"])
async def test_empty_message_is_400(client: TestClient, message: str) -> None:
    body = json.dumps({"sender": SENDER, "message": message}).encode()
    await assert_error(await post_raw(client, body), 400, "tom")


@pytest.mark.parametrize(
    "body", [b"", b"hei", b"{sender: 1}", b"<html></html>", b'{"a":', b"null", b"[1, 2"]
)
async def test_non_json_is_400(client: TestClient, body: bytes) -> None:
    await assert_error(await post_raw(client, body), 400)


@pytest.mark.parametrize("body", [
    {"sender": SENDER, "message": 42},
    {"sender": SENDER, "message": ["hei"]},
    {"sender": SENDER, "message": {"text": "hei"}},
    {"sender": SENDER, "message": None},
    {"sender": SENDER},
    ["hei"],
    "hei",
    42,
])
async def test_wrong_types_are_400(client: TestClient, body: object) -> None:
    await assert_error(await post_raw(client, json.dumps(body).encode()), 400)


@pytest.mark.parametrize("sender", [
    None, 12345678, ["abcdefghij"], "", "short", "a" * 65, "has space in it", "../../etc/passwd",
    "<script>alert(1)</script>", "ødelagt-ødelagt", "abc\ndefghij",
])
async def test_bad_sender_is_400(client: TestClient, sender: object) -> None:
    body = json.dumps({"sender": sender, "message": "hei"}).encode()
    await assert_error(await post_raw(client, body), 400)


async def test_invalid_utf8_is_400(client: TestClient) -> None:
    body = b'{"sender": "' + SENDER.encode() + b'", "message": "hei \xff\xfe \xc3\x28"}'
    await assert_error(await post_raw(client, body), 400)


@pytest.mark.parametrize("depth", [100, 5000])
async def test_deeply_nested_json_is_400(client: TestClient, depth: int) -> None:
    nested = "[" * depth + "]" * depth
    await assert_error(await post_raw(client, nested.encode()), 400)
    wrapped = f'{{"sender": "{SENDER}", "message": {nested}}}'
    await assert_error(await post_raw(client, wrapped.encode()), 400)


@pytest.mark.parametrize("message", [
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    "</textarea><b>hei</b>",
    "{{7*7}} ${7*7} [[vo_linjen]]",
])
async def test_html_payloads_are_text_and_answers_are_json(
    client: TestClient, message: str
) -> None:
    """Markup is not rejected or interpreted: it is a valid message, sent on as text. With Rasa
    down the answer is the JSON helpline card, never HTML."""
    body = json.dumps({"sender": SENDER, "message": message}).encode()
    resp = await post_raw(client, body)
    assert resp.status == 503
    assert resp.content_type == "application/json"
    assert_secure(resp)
    raw = await resp.text()
    assert "<" not in raw and message not in raw


async def test_rate_limit_is_429_in_bokmal(client: TestClient) -> None:
    body = json.dumps({"sender": SENDER, "message": "hei"}).encode()
    statuses = [(await post_raw(client, body)).status for _ in range(30)]
    assert set(statuses) == {503}
    msg = await assert_error(await post_raw(client, body), 429)
    assert registry.load()["police_emergency"].phone_display in msg


# ---- Rasa down -------------------------------------------------------------------------------

async def test_rasa_unreachable_gives_503_helpline_card(client: TestClient) -> None:
    body = json.dumps({"sender": SENDER, "message": "hei"}).encode()
    resp = await post_raw(client, body)
    assert resp.status == 503
    assert_secure(resp)
    card = await resp.json()
    assert isinstance(card, list) and len(card) == 1
    assert card[0]["recipient_id"] == SENDER
    assert "VO-linjen" in card[0]["text"] and "116 006" in card[0]["text"]
    assert "112" in card[0]["text"]
    payloads = {b["payload"] for b in card[0]["buttons"]}
    assert payloads == {"tel:116006", "tel:112"}
    assert all(set(b) == {"title", "payload"} for b in card[0]["buttons"])


# ---- headers on every response ---------------------------------------------------------------

async def every_kind_of_response(client: TestClient) -> list[aiohttp.ClientResponse]:
    good = json.dumps({"sender": SENDER, "message": "hei"}).encode()
    return [
        await client.get("/"),
        await client.get("/personvern"),
        await client.get("/widget.js"),
        await client.get("/widget.css"),
        await client.get("/page.css"),
        await client.get("/neutral"),
        await client.get("/healthz"),
        await client.get("/readyz"),                      # 503: nothing behind it
        await client.get("/finnes-ikke"),                 # 404
        await client.get("/static/../../etc/passwd"),     # 404
        await client.get(WEBHOOK),                        # 405
        await client.put("/", data=b"x"),                 # 405
        await client.options(WEBHOOK, headers={"Origin": ORIGIN}),
        await post_raw(client, good),                     # 503 card
        await post_raw(client, b"not json"),              # 400
        await post_raw(client, b"x" * (gateway.MAX_BODY_BYTES + 1)),  # 413
        await client.head("/"),
    ]


async def test_security_headers_and_no_cookies_on_every_response(client: TestClient) -> None:
    responses = await every_kind_of_response(client)
    statuses = {r.status for r in responses}
    assert {200, 204, 400, 404, 405, 413, 503} <= statuses
    for resp in responses:
        assert_secure(resp)
        assert not resp.cookies
    assert not client.session.cookie_jar.filter_cookies(client.make_url("/"))


async def test_errors_are_json_not_html(client: TestClient) -> None:
    for resp in (await client.get("/finnes-ikke"), await client.get(WEBHOOK)):
        assert resp.content_type == "application/json"
        assert "<" not in await resp.text()


async def test_frame_ancestors_allow_only_configured_origins(client: TestClient) -> None:
    csp = (await client.get("/")).headers["Content-Security-Policy"]
    assert f"frame-ancestors 'self' {ORIGIN}" in csp
    plain = gateway.create_app(origins=[])
    async with TestClient(TestServer(plain)) as c:
        csp = (await c.get("/")).headers["Content-Security-Policy"]
    assert csp.endswith("frame-ancestors 'self'")


# ---- CORS ------------------------------------------------------------------------------------

async def test_cors_only_for_the_configured_origin(client: TestClient) -> None:
    body = json.dumps({"sender": SENDER, "message": "hei"}).encode()
    ok = await client.post(WEBHOOK, data=body, headers={
        "Origin": ORIGIN, "Content-Type": "application/json"})
    assert ok.headers.get("Access-Control-Allow-Origin") == ORIGIN
    assert "Origin" in ok.headers.get("Vary", "")
    assert "Access-Control-Allow-Credentials" not in ok.headers
    pre = await client.options(WEBHOOK, headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert pre.status == 204
    assert pre.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in pre.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in pre.headers["Access-Control-Allow-Headers"]
    for other in ("https://evil.example", "null", ORIGIN + ".evil.example", "http://embed.example.no"):
        resp = await client.post(WEBHOOK, data=body, headers={
            "Origin": other, "Content-Type": "application/json"})
        assert "Access-Control-Allow-Origin" not in resp.headers, other
        pre = await client.options(WEBHOOK, headers={
            "Origin": other, "Access-Control-Request-Method": "POST"})
        assert "Access-Control-Allow-Origin" not in pre.headers, other
    assert "Access-Control-Allow-Origin" not in (await post_raw(client, body)).headers


async def test_no_cors_when_no_origin_is_configured() -> None:
    async with TestClient(TestServer(gateway.create_app(origins=[]))) as c:
        resp = await c.get("/widget.js", headers={"Origin": ORIGIN})
        assert "Access-Control-Allow-Origin" not in resp.headers


# ---- static files ----------------------------------------------------------------------------

class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inline_scripts = 0
        self.styles = 0
        self.style_attrs = 0
        self.event_attrs = 0
        self.external: list[str] = []
        self.scripts: list[dict[str, str | None]] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script":
            self.scripts.append(a)
            self._in_script = "src" not in a
            if not a.get("src"):
                self.inline_scripts += 1
        if tag == "style":
            self.styles += 1
        if "style" in a:
            self.style_attrs += 1
        self.event_attrs += sum(1 for k in a if k.startswith("on"))
        for key in ("src", "href"):
            v = a.get(key) or ""
            if re.match(r"^(https?:)?//", v):
                self.external.append(v)


@pytest.mark.parametrize("path", ["/", "/personvern", "/neutral"])
async def test_pages_have_no_inline_code_and_no_third_party_resources(
    client: TestClient, path: str
) -> None:
    resp = await client.get(path)
    assert resp.status == 200 and resp.content_type == "text/html"
    page = await resp.text()
    markup = _Markup()
    markup.feed(page)
    assert markup.inline_scripts == 0 and markup.styles == 0
    assert markup.style_attrs == 0 and markup.event_attrs == 0
    assert markup.external == []
    assert "[[" not in page and "{{" not in page
    assert '<html lang="nb">' in page


async def test_placeholders_are_filled_from_the_registry(client: TestClient) -> None:
    js = await (await client.get("/widget.js")).text()
    assert "[[" not in js
    assert '"116006"' in js and '"112"' in js and '"vo-linjen.no"' in js
    # The widget's strings come from the content, filled in: the greeting is utter_greet, the
    # offline card the gateway's own, with the same call buttons.
    assert "[[text:" not in js and '"Ring VO-linjen 116 006"' in js and '"Ring 112"' in js
    assert json.dumps(content.greeting(), ensure_ascii=False) in js
    assert json.dumps(gateway.text("unavailable"), ensure_ascii=False) in js
    index = await (await client.get("/")).text()
    assert 'href="tel:116006"' in index and 'href="tel:112"' in index
    privacy = await (await client.get("/personvern")).text()
    assert 'id="privat-surfing"' in privacy and "30 minutter" in privacy


def test_no_phone_number_is_typed_into_static_files() -> None:
    numbers = registry.load().numbers()
    displays = {registry.format_phone(n) for n in numbers}
    for f in STATIC.iterdir():
        text = f.read_text(encoding="utf-8")
        for n in numbers | displays:
            assert not re.search(rf"(?<![\d\[]){re.escape(n)}(?!\d)", text), (f.name, n)


def test_widget_never_stores_or_injects_markup() -> None:
    js = (STATIC / "widget.js").read_text(encoding="utf-8")
    code = re.sub(r"/\*.*?\*/", "", js, flags=re.S)
    for banned in ("localStorage", "sessionStorage", "indexedDB", "document.cookie", "innerHTML",
                   "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
                   "setAttribute(\"style\"", ".style.", "http://", "https://cdn"):
        assert banned not in code, banned
    assert "crypto.getRandomValues" in code and "textContent" in code
    assert 'credentials: "omit"' in code
    css = (STATIC / "widget.css").read_text(encoding="utf-8")
    assert "pre-line" in css and "@import" not in css and "url(" not in css


async def test_exit_url_is_configurable_and_safe(closed_port: int) -> None:
    assert gateway.exit_url(None) == gateway.DEFAULT_EXIT_URL == "https://www.yr.no"
    assert gateway.exit_url("/neutral") == "/neutral"
    assert gateway.exit_url("https://www.nrk.no/") == "https://www.nrk.no/"
    for bad in ("javascript:alert(1)", "data:text/html,x", "//evil.example", '/"><script>', " "):
        assert gateway.exit_url(bad) == gateway.DEFAULT_EXIT_URL, bad
    async with TestClient(TestServer(gateway.create_app(origins=[]))) as c:
        assert 'data-exit-url="https://www.yr.no"' in await (await c.get("/")).text()


async def test_neutral_page_is_neutral(client: TestClient) -> None:
    page = await (await client.get("/neutral")).text()
    assert "Været" in page
    for word in ("vold", "chat", "widget", "hjelp", "VO-linjen", "<script"):
        assert word.lower() not in page.lower(), word


# ---- against the real product ----------------------------------------------------------------

def test_stack_answers_markup_as_json_text(stack) -> None:  # type: ignore[no-untyped-def]
    import urllib.request

    for message in ("<script>alert('hei')</script>", "<b>hei</b> & </textarea>"):
        req = urllib.request.Request(
            stack.gateway + WEBHOOK, method="POST",
            data=json.dumps({"sender": "markupTest_0123456789", "message": message}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=60) as resp:
            assert resp.status == 200
            assert resp.headers.get_content_type() == "application/json"
            assert resp.headers["X-Content-Type-Options"] == "nosniff"
            assert resp.headers.get("Set-Cookie") is None
            replies = json.loads(resp.read())
        assert isinstance(replies, list) and replies
        for r in replies:
            assert set(r) <= {"recipient_id", "text", "buttons"}
            assert "<script" not in (r.get("text") or "")


# ---- the queue in front of Rasa --------------------------------------------------------------

class SlowUpstream:
    """A real HTTP server on the Rasa port that takes `delay` seconds per answer and records how
    many requests it held at once: it observes the gateway, it does not stand in for answers."""

    def __init__(self, delay: float) -> None:
        self.delay, self.now, self.most = delay, 0, 0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.now += 1
        self.most = max(self.most, self.now)
        await asyncio.sleep(self.delay)
        self.now -= 1
        return web.json_response([{"recipient_id": body["sender"], "text": "svar"}])


async def gateway_before(upstream: SlowUpstream, monkeypatch: pytest.MonkeyPatch,
                         **env: str) -> tuple[TestServer, TestClient]:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    rasa = web.Application()
    rasa.router.add_post(WEBHOOK, upstream.handle)
    server = TestServer(rasa)
    await server.start_server()
    app = gateway.create_app(rasa_url=str(server.make_url("")).rstrip("/"),
                             actions_url=str(server.make_url("")).rstrip("/"))
    client = TestClient(TestServer(app))
    await client.start_server()
    return server, client


async def test_at_most_rasa_concurrency_requests_reach_rasa(
        monkeypatch: pytest.MonkeyPatch) -> None:
    upstream = SlowUpstream(0.2)
    server, client = await gateway_before(upstream, monkeypatch, RASA_CONCURRENCY="2")
    try:
        replies = await asyncio.gather(*(
            client.post(WEBHOOK, json={"sender": f"queueSender_{i:04d}", "message": "hei"})
            for i in range(6)))
        assert [r.status for r in replies] == [200] * 6
        assert upstream.most == 2
    finally:
        await client.close()
        await server.close()


async def test_a_request_queued_past_the_timeout_gets_the_helpline_card(
        monkeypatch: pytest.MonkeyPatch) -> None:
    upstream = SlowUpstream(0.4)
    server, client = await gateway_before(upstream, monkeypatch, RASA_CONCURRENCY="1",
                                          RASA_TIMEOUT="0.6")
    try:
        replies = await asyncio.gather(*(
            client.post(WEBHOOK, json={"sender": f"queueSender_{i:04d}", "message": "hei"})
            for i in range(3)))
        statuses = sorted(r.status for r in replies)
        assert statuses == [200, 503, 503] or statuses == [200, 200, 503], statuses
        card = await next(r for r in replies if r.status == 503).json()
        assert "116 006" in card[0]["text"]
        assert upstream.most == 1
    finally:
        await client.close()
        await server.close()


def test_the_gateway_process_imports_no_rasa_core() -> None:
    """The HTTP edge reads content through bot.content: it never loads Rasa core (and sanic), and
    never patches Rasa. A fresh interpreter, as the gateway process starts."""
    code = (
        "import sys\n"
        "from bot import gateway\n"
        "gateway.create_app(rasa_url='http://127.0.0.1:9', actions_url='http://127.0.0.1:9')\n"
        "gateway.button_payloads(); gateway.helpline_card()\n"
        "from bot import flows; flows.names()\n"
        "bad = sorted(m for m in sys.modules if m.startswith(('rasa.core', 'sanic', 'bot.nlg',"
        " 'bot.speedups', 'tensorflow')))\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "[]", out.stdout
