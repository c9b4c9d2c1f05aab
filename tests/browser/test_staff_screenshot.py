"""The staff pages in a real browser (Debian's Chromium through Playwright) against a real gateway
process whose flow store is seeded through the real recorder: log in, check the pages render under
the gateway's CSP without errors, and save screenshots to tests/artifacts/ (gitignored)."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import flows
from bot.crisis_contract import INTENT_PREFIX, PARSE_KEY
from bot.flows import recorder as flow_recorder
from bot.flows import report as flow_report
from bot.flows import store as flow_store
from bot.launch import free_port, start_gateway
from bot.staff import auth as staff

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / "tests" / "artifacts"
PASSWORD = "skjermbilde passord 2024"

# Typical conversation shapes: (weight, steps).
SHAPES: list[tuple[int, list[str]]] = [
    (30, ["greet", "utter_greet", "need_help", "utter_ask_audience", "inform_audience",
          "utter_help_self", "krisesenter", "utter_info_krisesenter"]),
    (22, ["greet", "utter_greet", "is_this_violence", "utter_info_is_this_violence", "more",
          "utter_more_is_this_violence"]),
    (18, ["krisesenter", "utter_info_krisesenter", "thanks", "utter_thanks"]),
    (12, ["greet", "utter_greet", "talk_to_someone", "utter_info_talk_to_someone"]),
    (9, ["greet", "utter_greet", "nlu_fallback", "utter_default", "report_police",
         "utter_info_report_police"]),
    (7, ["crisis_acute", "utter_crisis_acute", "utter_check_safe", "affirm", "utter_affirm"]),
    (2, ["crisis_suicide", "utter_crisis_suicide", "utter_check_safe"]),
    (3, ["digital_safety", "utter_info_digital_safety"]),
]


def seed(store: flow_store.Store) -> None:
    rnd = random.Random(7)
    rec = flow_recorder.FlowRecorder(store, expiry=0)
    conversations = [steps for weight, steps in SHAPES for _ in range(weight)]
    for i, steps in enumerate(conversations):
        sender = f"screenshot-{i:06d}-seed"
        for step in steps:
            if flows.is_action_label(step):
                rec.publish({"sender_id": sender, "event": "action", "name": step})
            else:
                crisis = ({"categories": [step.removeprefix(INTENT_PREFIX)], "negated": False}
                          if step.startswith(INTENT_PREFIX) else None)
                conf = 1.0 if crisis else rnd.uniform(0.45, 0.99)
                rec.publish({"sender_id": sender, "event": "user", "parse_data": {
                    "intent": {"name": step, "confidence": conf}, PARSE_KEY: crisis}})
    rec.sweep(everything=True)
    today = flows.today()
    earlier = flow_report.day_range(14)[:-1]
    base = {(d, m, k): n for (d, m, k), n in store.read([today]).items()}
    for day in earlier:  # the same shape, scaled, on the days before
        factor = rnd.uniform(0.3, 1.2)
        store.add({(day, m, k): max(1, round(n * factor)) for (_, m, k), n in base.items()})
    for _ in range(6):
        flow_store.record_event(store, flows.EXIT)


@pytest.fixture(scope="module")
def staff_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    state = tmp_path_factory.mktemp("staff-state")
    seed(flow_store.SQLiteStore(state / "flows.sqlite3"))
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens: no Rasa needed
    gateway = start_gateway({"VONR_STATE_DIR": str(state), "RASA_URL": closed,
                             "ACTIONS_URL": closed,
                             "STAFF_PASSWORD_HASH": staff.hash_password(PASSWORD)}, state)
    yield gateway.gateway
    gateway.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `scripts/setup browser`",
                    pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


def test_staff_overview_screenshot(browser: Any, staff_gateway: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    problems: list[str] = []
    failed: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning")
            and not m.text.startswith("Failed to load resource") else None)
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400
            and not r.url.endswith("/favicon.ico") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(staff_gateway + "/staff")
    assert page.url.endswith("/staff/login")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(staff_gateway + "/staff")
    assert page.locator("h1").inner_text() == "Oversikt"
    assert page.locator("dd").first.inner_text() != "<5"
    cookies = context.cookies()
    assert [c["name"] for c in cookies] == ["vonr_staff"]
    assert cookies[0]["httpOnly"] and cookies[0]["sameSite"] == "Strict"
    # The stylesheet applied (no CSP block): the header has the brand colour.
    bg = page.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor")
    assert bg == "rgb(75, 42, 130)"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "staff-overview.png"), full_page=True)
    page.goto(staff_gateway + "/staff/flyt")
    assert page.locator("svg[role=img] rect").count() > 5
    page.screenshot(path=str(ARTIFACTS / "staff-flow.png"), full_page=True)
    page.click("text=Logg ut")
    page.wait_for_url(staff_gateway + "/staff/login")
    assert context.cookies() == []
    assert problems == [], problems  # e.g. a CSP violation
    assert failed == [], failed
    context.close()
