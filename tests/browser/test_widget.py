"""The chat widget in a real browser (Debian's Chromium through Playwright), against the real
product (`stack`) and against a real gateway whose Rasa is a closed port (`offline`).

Nothing is faked: the only interception rewrites the demo page's `data-exit-url` so the quick exit
lands on the gateway's own neutral page instead of a third-party site, and one test aborts the
webhook request to simulate a lost connection. Screenshots go to tests/artifacts/ (gitignored)."""

from __future__ import annotations

import hashlib
import http.server
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.launch import free_port, start_gateway

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / "tests" / "artifacts"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
REPLY_TIMEOUT = 90_000  # ms; the first answer of a fresh Rasa can be slow on 2 cores
SETUP_HINT = "run `scripts/setup browser` (installs /usr/bin/chromium and axe-core)"


# ---- environment -----------------------------------------------------------------------------

def axe_path() -> Path:
    home = Path(os.environ.get("VONR_HOME", Path.home() / ".cache" / "vonr"))
    digest = hashlib.sha256((ROOT / "package.json").read_bytes()).hexdigest()[:12]
    path = home / f"npm-{digest}" / "node_modules" / "axe-core" / "axe.min.js"
    if not path.is_file():
        pytest.fail(f"axe-core not found at {path}: {SETUP_HINT}", pytrace=False)
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"Chromium not found at {CHROMIUM}: {SETUP_HINT}", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.fail(f"the playwright package is missing from the venv: {exc}", pytrace=False)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


@contextmanager
def gateway_process(env: dict[str, str], logdir: Path) -> Iterator[str]:
    """A real gateway process (`python -m bot.gateway`) on a free port; yields its base URL."""
    gateway = start_gateway(env, logdir)
    try:
        yield gateway.gateway
    finally:
        gateway.stop()


@pytest.fixture(scope="session")
def offline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A gateway whose Rasa is a closed port (bound, never listening), with the quick exit
    configured the production way (EXIT_URL) to its own neutral page."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{closed.getsockname()[1]}"
        env = {"RASA_URL": dead, "ACTIONS_URL": dead, "EXIT_URL": "/neutral"}
        with gateway_process(env, tmp_path_factory.mktemp("offline")) as base:
            yield base


# ---- a page with its watchers ------------------------------------------------------------------

@dataclass
class Tab:
    base: str
    context: Any
    page: Any
    foreign: list[str] = field(default_factory=list)
    csp: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cookies_set: list[str] = field(default_factory=list)
    exit_patched: list[bool] = field(default_factory=list)

    def open_demo(self, path: str = "/", *, patch_exit: bool = True) -> None:
        """Open a page of the product; with patch_exit, point the widget's quick exit at this
        gateway's neutral page (the served page says https://www.yr.no)."""
        if patch_exit:
            neutral = self.base + "/neutral"

            def patch(route: Any) -> None:
                resp = route.fetch()
                body = resp.text()
                new = body.replace('data-exit-url="https://www.yr.no"',
                                   f'data-exit-url="{neutral}"')
                self.exit_patched.append(new != body)
                route.fulfill(response=resp, body=new)

            self.page.route(self.base + path, patch)
        self.page.goto(self.base + path)
        if patch_exit:
            assert self.exit_patched == [True], "the demo page no longer has data-exit-url"
        self.page.wait_for_selector("#vonr-exit")

    def bots(self) -> Any:
        return self.page.locator("#vonr-log .vonr-bot")

    def send(self, text: str) -> Any:
        """Type a message, press Enter, and return the locator of the first new bot message."""
        before = self.bots().count()
        box = self.page.get_by_label("Skriv meldingen din")
        box.fill(text)
        box.press("Enter")
        return self.wait_reply(before)

    def wait_reply(self, before: int) -> Any:
        from playwright.sync_api import expect

        expect(self.bots().nth(before)).to_be_visible(timeout=REPLY_TIMEOUT)
        expect(self.page.locator("#vonr-typing")).to_be_hidden(timeout=REPLY_TIMEOUT)
        return self.bots().nth(before)

    def check_clean(self) -> None:
        assert self.foreign == [], f"third-party requests: {self.foreign}"
        assert self.csp == [], f"CSP violations: {self.csp}"
        assert self.errors == [], f"page errors: {self.errors}"
        assert self.cookies_set == [], f"Set-Cookie seen: {self.cookies_set}"


def new_tab(browser: Any, base: str, viewport: dict[str, int] = DESKTOP, **kw: Any) -> Tab:
    context = browser.new_context(viewport=viewport, locale="nb-NO", **kw)
    page = context.new_page()
    tab = Tab(base, context, page)

    def on_request(req: Any) -> None:
        url = req.url
        if not (url.startswith(base + "/") or url.startswith(("data:", "about:", "tel:"))):
            tab.foreign.append(url)

    def on_response(resp: Any) -> None:
        if resp.headers.get("set-cookie"):
            tab.cookies_set.append(resp.url)

    def on_console(msg: Any) -> None:
        if "Content Security Policy" in msg.text or "Refused to" in msg.text:
            tab.csp.append(msg.text)

    page.on("request", on_request)
    page.on("response", on_response)
    page.on("console", on_console)
    page.on("pageerror", lambda err: tab.errors.append(str(err)))
    return tab


@pytest.fixture
def tab(browser: Any, stack: Any) -> Iterator[Tab]:
    t = new_tab(browser, stack.gateway)
    yield t
    t.context.close()


@pytest.fixture
def offline_tab(browser: Any, offline: str) -> Iterator[Tab]:
    t = new_tab(browser, offline)
    yield t
    t.context.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))  # what the screen shows, fixed exit included


def storage(page: Any) -> dict[str, Any]:
    return page.evaluate("""async () => ({
        local: window.localStorage.length,
        session: window.sessionStorage.length,
        idb: (await indexedDB.databases()).length,
        cookie: document.cookie,
    })""")


def run_axe(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(axe_path()))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                             'best-practice']},
            resultTypes: ['violations'],
        });
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
    }""")
    return [v for v in result if v["impact"] in ("serious", "critical")]


# ---- the conversation ------------------------------------------------------------------------

def test_conversation_round_trip_and_quick_reply(tab: Tab) -> None:
    from playwright.sync_api import expect

    tab.open_demo()
    page = tab.page
    log = page.get_by_role("log")
    expect(log).to_have_attribute("aria-live", "polite")
    reply = tab.send("hei")
    expect(page.locator("#vonr-log .vonr-user").last).to_contain_text("hei")
    text = reply.inner_text()
    assert "Hei" in text or "hei" in text, text
    assert any(w in text for w in (" er ", " og ", " du ", "Hva ", "jeg")), text  # Bokmål
    quick = page.locator("#vonr-log .vonr-bot button.vonr-quick:not([disabled])")
    expect(quick.first).to_be_visible()
    title = quick.first.inner_text()
    before = tab.bots().count()
    quick.first.click()
    expect(page.locator("#vonr-log .vonr-user .vonr-text").last).to_have_text(title)
    answer = tab.wait_reply(before).inner_text()
    assert answer.strip() and answer != text
    # Old quick replies are retired once used, so keyboard users do not tab through them.
    assert page.locator("#vonr-log .vonr-bot").first.locator("button:not([disabled])").count() == 0
    # Line breaks from the server are kept.
    assert page.locator(".vonr-text").first.evaluate(
        "e => getComputedStyle(e).whiteSpace") == "pre-line"
    tab.check_clean()


def test_server_text_is_never_markup(tab: Tab) -> None:
    tab.open_demo()
    page = tab.page
    tab.send("<img src=x onerror=\"document.title='pwned'\"> <b>hei</b>")
    assert page.locator("#vonr-log img, #vonr-log b, #vonr-log script").count() == 0
    assert page.title() != "pwned"
    expect_user = page.locator("#vonr-log .vonr-user .vonr-text").last.inner_text()
    assert "<b>hei</b>" in expect_user
    tab.check_clean()


def test_no_cookies_and_no_web_storage_after_a_conversation(tab: Tab) -> None:
    tab.open_demo()
    tab.send("hei")
    tab.send("hva er et krisesenter")
    assert tab.context.cookies() == []
    assert storage(tab.page) == {"local": 0, "session": 0, "idb": 0, "cookie": ""}
    tab.page.goto(tab.base + "/personvern")
    assert tab.context.cookies() == []
    assert storage(tab.page) == {"local": 0, "session": 0, "idb": 0, "cookie": ""}
    tab.check_clean()


def test_conversation_id_is_random_per_page_load(tab: Tab) -> None:
    senders: list[str] = []

    def on_request(req: Any) -> None:
        if req.url.endswith("/webhooks/rest/webhook") and req.method == "POST":
            senders.append(req.post_data_json["sender"])

    tab.page.on("request", on_request)
    tab.open_demo()
    tab.send("hei")
    tab.page.reload()
    tab.page.wait_for_selector("#vonr-input")
    tab.send("hei")
    assert len(senders) == 2 and senders[0] != senders[1]
    for s in senders:
        assert len(s) >= 16 and all(c.isascii() and (c.isalnum() or c in "_-") for c in s)
    tab.check_clean()


# ---- quick exit ------------------------------------------------------------------------------

def assert_left(tab: Tab) -> None:
    from playwright.sync_api import expect

    page = tab.page
    page.wait_for_url(tab.base + "/neutral", timeout=15_000)
    expect(page.get_by_role("heading", level=1)).to_have_text("Været i dag")
    page.go_back()
    page.wait_for_timeout(500)
    assert page.url != tab.base + "/", "Back returned to the chat"
    assert page.locator("#vonr-chat").count() == 0
    assert page.locator("text=Hva lurer du på").count() == 0


def test_quick_exit_button_blanks_at_once_and_back_does_not_return(tab: Tab) -> None:
    tab.open_demo()
    tab.send("hei")
    page = tab.page
    exit_btn = page.get_by_role("button", name="Gå ut raskt")
    assert exit_btn.is_visible()
    # Blank in the same task as the click, before the browser has left the page.
    left = page.evaluate("""() => {
        document.getElementById('vonr-exit').click();
        return {children: document.body.children.length, title: document.title,
                text: document.body.innerText};
    }""")
    assert left == {"children": 0, "title": "", "text": ""}
    assert_left(tab)
    tab.check_clean()


def test_quick_exit_by_clicking(tab: Tab) -> None:
    tab.open_demo()
    tab.page.get_by_role("button", name="Gå ut raskt").click()
    assert_left(tab)


def test_quick_exit_escape_twice(tab: Tab) -> None:
    tab.open_demo()
    tab.send("hei")
    page = tab.page
    page.get_by_label("Skriv meldingen din").focus()
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    assert_left(tab)
    tab.check_clean()


def test_quick_exit_shift_three_times(tab: Tab) -> None:
    tab.open_demo()
    page = tab.page
    page.keyboard.press("Shift")
    page.keyboard.press("Shift")
    page.keyboard.press("Shift")
    assert_left(tab)


def test_typing_capitals_or_slow_keys_do_not_exit(tab: Tab) -> None:
    tab.open_demo()
    page = tab.page
    box = page.get_by_label("Skriv meldingen din")
    box.focus()
    page.keyboard.type("Hei Jeg Og Du ABC")  # Shift pressed for every capital, with keys between
    page.keyboard.press("Escape")
    page.wait_for_timeout(1100)
    page.keyboard.press("Escape")
    page.wait_for_timeout(300)
    assert page.url == tab.base + "/"
    assert box.input_value() == "Hei Jeg Og Du ABC"


def test_privacy_page_has_quick_exit_and_private_browsing_section(tab: Tab) -> None:
    from playwright.sync_api import expect

    tab.open_demo()
    link = tab.page.get_by_role("link", name="Slik bruker du privat nettlesing")
    expect(link).to_be_visible()
    link.click()
    tab.page.wait_for_url(tab.base + "/personvern#privat-surfing")
    expect(tab.page.locator("#privat-surfing")).to_be_in_viewport()
    tab.page.unroute("**")
    tab.exit_patched.clear()
    tab.open_demo("/personvern")
    tab.page.get_by_role("button", name="Gå ut raskt").click()
    assert_left(tab)
    tab.check_clean()


# ---- talk to a human ---------------------------------------------------------------------------

def test_talk_to_a_human_panel_by_keyboard(tab: Tab) -> None:
    from playwright.sync_api import expect

    tab.open_demo()
    page = tab.page
    btn = page.get_by_role("button", name="Snakk med et menneske")
    expect(btn).to_have_attribute("aria-expanded", "false")
    btn.focus()
    page.keyboard.press("Enter")
    expect(btn).to_have_attribute("aria-expanded", "true")
    panel = page.locator("#vonr-human")
    expect(panel).to_be_visible()
    assert page.evaluate("document.activeElement.id") == "vonr-human-title"
    expect(panel.get_by_role("link", name="Ring VO-linjen 116 006")).to_have_attribute(
        "href", "tel:116006")
    expect(panel.get_by_role("link", name="Ring 112")).to_have_attribute("href", "tel:112")
    expect(panel.get_by_role("link", name="vo-linjen.no")).to_be_visible()
    page.keyboard.press("Escape")  # one Escape closes the panel, it does not exit
    expect(panel).to_be_hidden()
    assert page.evaluate("document.activeElement.id") == "vonr-human-btn"
    page.wait_for_timeout(1100)
    assert page.url == tab.base + "/"
    tab.check_clean()


def test_full_keyboard_use_with_visible_focus(tab: Tab) -> None:
    page = tab.page
    tab.open_demo()
    page.keyboard.press("Tab")
    first = page.evaluate("document.activeElement.id")
    assert first == "vonr-exit", "the quick exit must be the first stop"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), outline
    for _ in range(30):
        if page.evaluate("document.activeElement.id") == "vonr-input":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "vonr-input"
    before = tab.bots().count()
    page.keyboard.type("hei")
    page.keyboard.press("Enter")
    tab.wait_reply(before)
    # Reach a quick reply with Shift+Tab and use it with the keyboard.
    for _ in range(15):
        if page.evaluate("document.activeElement.classList.contains('vonr-quick')"):
            break
        page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.classList.contains('vonr-quick')")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), outline
    before = tab.bots().count()
    page.keyboard.press("Enter")
    tab.wait_reply(before)
    assert page.url == tab.base + "/"
    tab.check_clean()


# ---- when the backend is down -------------------------------------------------------------------

def test_offline_card_when_rasa_is_down(offline_tab: Tab) -> None:
    from playwright.sync_api import expect

    tab = offline_tab
    tab.open_demo(patch_exit=False)
    card = tab.send("hei")
    expect(card).to_have_class("vonr-msg vonr-bot vonr-card")
    text = card.inner_text()
    assert "VO-linjen" in text and "116 006" in text and "112" in text
    expect(card.get_by_role("link", name="Ring VO-linjen 116 006")).to_have_attribute(
        "href", "tel:116006")
    expect(card.get_by_role("link", name="Ring 112")).to_have_attribute("href", "tel:112")
    expect(tab.page.locator("#vonr-typing")).to_be_hidden()
    expect(tab.page.locator("#vonr-send")).to_be_enabled()
    tab.check_clean()


def test_offline_card_when_the_connection_is_lost(offline_tab: Tab) -> None:
    from playwright.sync_api import expect

    tab = offline_tab
    tab.page.route("**/webhooks/rest/webhook", lambda route: route.abort("internetdisconnected"))
    tab.open_demo(patch_exit=False)
    card = tab.send("hei")
    text = card.inner_text()
    assert "VO-linjen" in text and "116 006" in text and "112" in text
    expect(card.locator('a[href="tel:116006"]')).to_be_visible()
    expect(card.locator('a[href="tel:112"]')).to_be_visible()


def test_exit_url_from_gateway_config(offline_tab: Tab) -> None:
    tab = offline_tab
    tab.open_demo(patch_exit=False)
    tab.page.keyboard.press("Escape")
    tab.page.keyboard.press("Escape")
    assert_left(tab)
    tab.check_clean()


# ---- layout and accessibility ------------------------------------------------------------------

@pytest.mark.parametrize("viewport", [PHONE, {"width": 320, "height": 640},
                                      {"width": 640, "height": 400}], ids=str)
def test_reflow_without_horizontal_scrolling(browser: Any, offline: str,
                                             viewport: dict[str, int]) -> None:
    """360 px phones, and 1280x800 at 200 % / 400 % zoom (640 and 320 CSS px wide)."""
    tab = new_tab(browser, offline, viewport)
    try:
        tab.open_demo(patch_exit=False)
        tab.send("hei")
        tab.page.get_by_role("button", name="Snakk med et menneske").click()
        width = tab.page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], width
        for name in ("Gå ut raskt", "Snakk med et menneske", "Send"):
            box = tab.page.get_by_role("button", name=name).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], name
            assert box["height"] >= 24, name
    finally:
        tab.context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280x800", "360x740"])
def test_axe_and_screenshots(browser: Any, stack: Any, viewport: dict[str, int]) -> None:
    # bypass_csp lets Playwright inject axe as an inline script; the product's CSP is
    # checked by every other test.
    tab = new_tab(browser, stack.gateway, viewport, bypass_csp=True)
    size = f"{viewport['width']}x{viewport['height']}"
    try:
        tab.open_demo()
        page = tab.page
        shot(page, f"demo-empty-{size}.png")
        tab.send("hei")
        tab.send("hva er et krisesenter")
        shot(page, f"demo-conversation-{size}.png")
        violations = run_axe(page)
        assert violations == [], violations
        page.get_by_role("button", name="Snakk med et menneske").click()
        shot(page, f"demo-human-panel-{size}.png")
        violations = run_axe(page)
        assert violations == [], violations
        page.goto(stack.gateway + "/personvern")
        page.wait_for_selector("#vonr-exit")
        shot(page, f"privacy-{size}.png")
        violations = run_axe(page)
        assert violations == [], violations
        tab.check_clean()
    finally:
        tab.context.close()


def test_axe_offline_card(browser: Any, offline: str) -> None:
    tab = new_tab(browser, offline, PHONE, bypass_csp=True)
    try:
        tab.open_demo(patch_exit=False)
        tab.send("hei")
        shot(tab.page, "demo-offline-360x740.png")
        assert run_axe(tab.page) == []
    finally:
        tab.context.close()


# ---- embedded on another site ------------------------------------------------------------------

HOST_PAGE = """<!doctype html><html lang="nb"><head><meta charset="utf-8">
<title>Kommunens side</title></head><body><main><h1>Hjelp i kommunen</h1>
<div id="chat-here"></div></main>
<script src="{gw}/widget.js" data-target="#chat-here" data-exit-url="{gw}/neutral"></script>
</body></html>"""


@contextmanager
def host_site(gateway: str, port: int = 0) -> Iterator[str]:
    """Another site (another origin: another port) with the one-tag embed, served by a plain
    local HTTP server: it stands for a municipality's page, not for the product."""
    body = HOST_PAGE.format(gw=gateway).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self.send_response(200 if self.path == "/" else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def embedded(browser: Any, gateway: str, host: str) -> Tab:
    tab = new_tab(browser, gateway)
    tab.page.goto(host + "/")
    tab.page.wait_for_selector("#chat-here #vonr-chat")
    return tab


def test_embedded_on_a_configured_origin(browser: Any, stack: Any,
                                         tmp_path_factory: pytest.TempPathFactory) -> None:
    logdir = tmp_path_factory.mktemp("embed")
    port = free_port()
    host = f"http://127.0.0.1:{port}"
    env = {"RASA_URL": stack.rasa, "ACTIONS_URL": stack.actions, "ALLOWED_ORIGINS": host}
    with gateway_process(env, logdir) as gw, host_site(gw, port) as site:
        assert site == host
        tab = embedded(browser, gw, host)
        try:
            page = tab.page
            assert page.evaluate("getComputedStyle(document.getElementById('vonr-exit'))"
                                 ".position") == "fixed", "widget.css did not load"
            reply = tab.send("hei").inner_text()
            assert "vonr-card" not in (tab.bots().last.get_attribute("class") or "")
            assert "Hei" in reply or "hei" in reply, reply
            assert tab.context.cookies() == []
            page.keyboard.press("Escape")
            page.keyboard.press("Escape")
            page.wait_for_url(gw + "/neutral")
            assert tab.foreign == [host + "/"], tab.foreign
            assert tab.csp == [] and tab.errors == [] and tab.cookies_set == []
        finally:
            tab.context.close()


def test_embedded_on_an_unknown_origin_gets_no_answer_but_the_card(
    browser: Any, stack: Any
) -> None:
    """The stack's gateway has no ALLOWED_ORIGINS: the browser's CORS check refuses the answer,
    and the user still gets the built-in helpline card."""
    with host_site(stack.gateway) as host:
        tab = embedded(browser, stack.gateway, host)
        console: list[str] = []
        tab.page.on("console", lambda msg: console.append(msg.text))
        try:
            card = tab.send("hei")
            assert "116 006" in card.inner_text()
            assert card.locator('a[href="tel:112"]').count() == 1
            assert card.locator('a[href="tel:116006"]').count() == 1
            assert any("CORS" in m for m in console), console
        finally:
            tab.context.close()
