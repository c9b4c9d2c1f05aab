"""Staff review of anonymised conversation flows, on the gateway under /staff.

Server-rendered Bokmål pages (no scripts, one static stylesheet, the flow picture as inline SVG
with presentation attributes only), CSV and Rasa-story exports, and two public endpoints the widget
may call: POST /events/exit and POST /events/feedback ({"helpful": true|false}), counted per day.

Access: a password whose scrypt hash is in STAFF_PASSWORD_HASH (`python -m bot.staff hash` makes
one). There is no default password; without the variable the pages explain how to set one. Login
attempts share one budget, whatever address they come from (behind an ingress every address is
the ingress's): they are checked one at a time, and after a few wrong ones each check waits a
delay that doubles with every further wrong one in the last 15 minutes, up to a few seconds. No
one is locked out: the right password is always checked, after at most that delay for each
attempt queued before it (at most MAX_PENDING). A session is a random token in the `vonr_staff`
cookie (HttpOnly, SameSite=Strict, Secure except on localhost, Path=/staff), known server-side
only as its SHA-256 and held in memory, so a gateway restart logs everyone out. It is the only
cookie the product sets.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import hmac
import html
import io
import json
import os
import secrets
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from bot import flows
from bot.ratelimit import RateLimiter

STATIC = Path(__file__).resolve().parent / "static"
COOKIE = "vonr_staff"
FAILURE_WINDOW_SECONDS = 15 * 60
FREE_FAILURES = 3  # wrong passwords (typos) before any delay
BASE_DELAY = 0.25
MAX_DELAY = 4.0  # at most 900 guesses an hour, globally
MAX_PENDING = 16  # attempts waiting for their check; more get a 429 for a moment
SESSION_IDLE_SECONDS = 60 * 60
SESSION_MAX_SECONDS = 12 * 60 * 60
SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
MAX_PASSWORD_CHARS = 1024
EVENT_BODY_BYTES = 1024
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
PERIODS = (7, 30, 90, 365)
CRISIS_LABELS = {"acute": "Akutt fare", "suicide": "Selvmordsfare", "child": "Barn i fare",
                 "trafficking": "Menneskehandel"}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# ---- password hashes ---------------------------------------------------------------------------

def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, **SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def parse_hash(value: str | None) -> tuple[bytes, bytes] | None:
    try:
        scheme, salt, digest = (value or "").strip().split("$")
        if scheme != "scrypt" or not salt or not digest:
            return None
        return bytes.fromhex(salt), bytes.fromhex(digest)
    except ValueError:
        return None


def configured_hash() -> tuple[bytes, bytes] | None:
    return parse_hash(os.environ.get("STAFF_PASSWORD_HASH"))


def verify(password: str, stored: tuple[bytes, bytes]) -> bool:
    salt, expected = stored
    params = dict(SCRYPT, dklen=len(expected))
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, **params)
    return hmac.compare_digest(digest, expected)


# ---- sessions and the login budget, in memory ---------------------------------------------------

class Auth:
    def __init__(self) -> None:
        self.sessions: dict[str, tuple[float, float]] = {}  # sha256(token) -> (created, expires)
        self.failures: deque[float] = deque()  # times of wrong passwords, all addresses
        self.next_check = 0.0  # monotonic time before which no password is checked
        self.pending = 0
        self.turn = asyncio.Lock()  # first come, first checked

    def recent_failures(self, now: float) -> int:
        while self.failures and self.failures[0] <= now - FAILURE_WINDOW_SECONDS:
            self.failures.popleft()
        return len(self.failures)

    def delay(self, now: float) -> float:
        """The wait after a wrong password: none for the first few, then doubling, capped."""
        over = self.recent_failures(now) - FREE_FAILURES
        return 0.0 if over < 0 else min(MAX_DELAY, BASE_DELAY * 2 ** min(over, 16))

    async def check(self, password: str | None, stored: tuple[bytes, bytes]) -> bool | None:
        """Whether `password` is right, checked in turn after the current back-off; None when
        MAX_PENDING attempts are already waiting (ask again in a moment)."""
        if self.pending >= MAX_PENDING:
            return None
        self.pending += 1
        try:
            async with self.turn:
                wait = self.next_check - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                ok = (isinstance(password, str) and 0 < len(password) <= MAX_PASSWORD_CHARS
                      and await asyncio.to_thread(verify, password, stored))
                now = time.monotonic()
                if ok:
                    return True
                self.failures.append(now)
                self.next_check = now + self.delay(now)
                return False
        finally:
            self.pending -= 1

    @staticmethod
    def _id(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def new_session(self) -> str:
        token = secrets.token_urlsafe(32)
        now = time.monotonic()
        self.sessions[self._id(token)] = (now, now + SESSION_IDLE_SECONDS)
        for sid in [s for s, (_, exp) in self.sessions.items() if exp <= now]:
            del self.sessions[sid]
        return token

    def valid(self, token: str | None) -> bool:
        if not token or len(token) > 100:
            return False
        sid, now = self._id(token), time.monotonic()
        entry = self.sessions.get(sid)
        if entry is None:
            return False
        created, expires = entry
        if now >= expires or now >= created + SESSION_MAX_SECONDS:
            del self.sessions[sid]
            return False
        limit = created + SESSION_MAX_SECONDS
        self.sessions[sid] = (created, min(now + SESSION_IDLE_SECONDS, limit))
        return True

    def end(self, token: str | None) -> None:
        if token:
            self.sessions.pop(self._id(token), None)


def logged_in(request: web.Request) -> bool:
    """Whether the request carries a valid staff session (the gateway's /readyz asks)."""
    auth: Auth | None = request.app.get("staff_auth")
    return (configured_hash() is not None and auth is not None
            and auth.valid(request.cookies.get(COOKIE)))


def is_local(request: web.Request) -> bool:
    host = request.host or ""
    if host.startswith("["):
        host = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.lower() in LOCAL_HOSTS


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    response.set_cookie(COOKIE, token, path="/staff", httponly=True, samesite="Strict",
                        secure=not is_local(request))


def same_origin(request: web.Request) -> bool:
    """A form POST must come from our own pages: SameSite=Strict covers the session cookie, this
    covers login. A missing Origin (older clients, curl) is allowed, "null" or another is not."""
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin is None
    return origin.split("://", 1)[-1] == request.host


# ---- HTML --------------------------------------------------------------------------------------

def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def page(title: str, body: str, nav: bool = True, status: int = 200,
         days: int | None = None) -> web.Response:
    q = f"?dager={days}" if days else ""
    links = (
        f'<nav aria-label="Staff"><a href="/staff{q}">Oversikt</a>'
        f'<a href="/staff/flyt{q}">Flytbilde</a><a href="/staff/tillit{q}">Laveste tillit</a>'
        f'<a href="/staff/export.csv{q}">Eksport (CSV)</a>'
        f'<a href="/staff/export/stories.yml{q}">Eksport (testhistorier)</a>'
        '<form method="post" action="/staff/logout"><button type="submit">Logg ut</button>'
        "</form></nav>"
    ) if nav else ""
    text = (
        '<!doctype html><html lang="nb"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex, nofollow">'
        f"<title>{esc(title)} – vonr-bot ansatte</title>"
        '<link rel="stylesheet" href="/staff/staff.css"></head><body>'
        f'<header><p class="brand">vonr-bot · for ansatte</p>{links}</header>'
        f"<main><h1>{esc(title)}</h1>{body}</main></body></html>"
    )
    return web.Response(text=text, content_type="text/html", status=status)


def setup_page() -> web.Response:
    body = (
        "<p>Sidene for ansatte er slått av fordi det ikke er satt noe passord. Det finnes ikke "
        "noe standardpassord.</p><h2>Slik setter du et passord</h2><ol>"
        "<li>Kjør <code>python -m bot.staff hash</code> i prosjektmappen og skriv inn et langt "
        "passord.</li>"
        "<li>Sett miljøvariabelen <code>STAFF_PASSWORD_HASH</code> til verdien som skrives ut "
        "(den begynner med <code>scrypt$</code>), der gatewayen kjører.</li>"
        "<li>Start tjenesten på nytt og logg inn på <code>/staff/login</code>.</li></ol>"
        "<p>Selve passordet lagres ikke noe sted, bare hashen.</p>"
    )
    return page("Innlogging er ikke satt opp", body, nav=False, status=503)


def login_page(message: str = "", status: int = 200) -> web.Response:
    note = f'<p class="error" role="alert">{esc(message)}</p>' if message else ""
    body = (
        f"{note}<form method=\"post\" action=\"/staff/login\" class=\"login\">"
        '<label for="password">Passord</label>'
        '<input id="password" name="password" type="password" autocomplete="current-password" '
        'required autofocus maxlength="1024">'
        '<button type="submit">Logg inn</button></form>'
        "<p class=\"note\">Innloggingen bruker én informasjonskapsel (<code>vonr_staff</code>) "
        "som bare gjelder disse sidene og slettes når du logger ut.</p>"
    )
    return page("Logg inn", body, nav=False, status=status)


def redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location})


def table(head: list[str], rows: list[list[Any]], cls: str = "") -> str:
    th = "".join(f'<th scope="col">{esc(h)}</th>' for h in head)
    trs = "".join(
        "<tr>" + "".join(
            f'<td class="n">{esc(c)}</td>' if i else f"<td>{esc(c)}</td>" for i, c in enumerate(r)
        ) + "</tr>" for r in rows
    ) or f'<tr><td colspan="{len(head)}">Ingen data i perioden.</td></tr>'
    return f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>'


def period_links(path: str, days: int) -> str:
    links = " ".join(
        f'<a href="{path}?dager={d}"' + (' aria-current="page"' if d == days else "")
        + f">{d} dager</a>" for d in PERIODS
    )
    return f'<p class="period">Periode: {links}</p>'


def k_note(k: int) -> str:
    return (f'<p class="note">Tall under {k} vises som «&lt;{k}» for å verne personvernet. '
            "Samtaler telles når de er avsluttet (etter en periode uten aktivitet).</p>")


# ---- the flow picture ----------------------------------------------------------------------------

NODE_W, NODE_H, COL_W, ROW_H, PAD = 200, 26, 232, 36, 12
FILL = {"intent": "#ede7f6", "action": "#e3f2fd", "crisis": "#fde2e1", "fallback": "#fff4cc",
        "start": "#4b2a82"}


def kind_of(step: str) -> str:
    if step.startswith(("crisis_", "utter_crisis_")):
        return "crisis"
    if step in (flows.FALLBACK_INTENT, *flows.FALLBACK_ACTIONS):
        return "fallback"
    return "action" if flows.is_action_label(step) else "intent"


def flow_svg(paths: list[tuple[str, int]], k: int) -> str:
    """The common paths as a tree from a start node (shared beginnings merge), edge widths by
    count. Inline SVG with presentation attributes only (the CSP forbids inline styles)."""
    if not paths:
        return f"<p>Ingen stier er sett minst {k} ganger i perioden.</p>"
    root: dict[str, Any] = {"label": "start", "n": 0, "kids": {}}
    for path, n in paths:
        root["n"] += n
        node = root
        for step in path.split(flows.SEP):
            node = node["kids"].setdefault(step, {"label": step, "n": 0, "kids": {}})
            node["n"] += n
    rows = [0]
    depth_max = [0]

    def place(node: dict[str, Any], depth: int) -> float:
        depth_max[0] = max(depth_max[0], depth)
        node["depth"] = depth
        kids = sorted(node["kids"].values(), key=lambda c: -c["n"])
        node["order"] = kids
        if not kids:
            node["row"] = rows[0]
            rows[0] += 1
        else:
            ys = [place(c, depth + 1) for c in kids]
            node["row"] = (ys[0] + ys[-1]) / 2
        return node["row"]

    place(root, 0)
    width = PAD * 2 + depth_max[0] * COL_W + NODE_W
    height = PAD * 2 + rows[0] * ROW_H
    top = root["n"] or 1
    parts: list[str] = []

    def xy(node: dict[str, Any]) -> tuple[float, float]:
        return PAD + node["depth"] * COL_W, PAD + node["row"] * ROW_H

    def draw(node: dict[str, Any]) -> None:
        x, y = xy(node)
        for kid in node["order"]:
            kx, ky = xy(kid)
            x1, y1, x2, y2 = x + NODE_W, y + NODE_H / 2, kx, ky + NODE_H / 2
            mid = (x1 + x2) / 2
            w = 1.5 + 12 * kid["n"] / top
            parts.append(
                f'<path d="M{x1:.0f},{y1:.0f} C{mid:.0f},{y1:.0f} {mid:.0f},{y2:.0f} '
                f'{x2:.0f},{y2:.0f}" fill="none" stroke="#7e57c2" stroke-opacity="0.45" '
                f'stroke-width="{w:.1f}"/>'
            )
            draw(kid)
        kind = "start" if node is root else kind_of(node["label"])
        label = node["label"] if len(node["label"]) <= 24 else node["label"][:23] + "…"
        count = flows.shown(node["n"], k)
        color = "#ffffff" if kind == "start" else "#1c1b22"
        parts.append(
            f'<g><title>{esc(node["label"])}: {esc(count)} samtaler</title>'
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{NODE_W}" height="{NODE_H}" rx="5" '
            f'fill="{FILL[kind]}" stroke="#6b6780" stroke-width="1"/>'
            f'<text x="{x + 8:.0f}" y="{y + 17:.0f}" font-size="12" fill="{color}" '
            f'font-family="system-ui, sans-serif">{esc(label)}</text>'
            f'<text x="{x + NODE_W - 8:.0f}" y="{y + 17:.0f}" font-size="12" fill="{color}" '
            f'text-anchor="end" font-weight="bold" font-family="system-ui, sans-serif">'
            f"{esc(count)}</text></g>"
        )

    draw(root)
    return (
        f'<div class="flow"><svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Flytbilde av de vanligste samtaleforløpene">{"".join(parts)}</svg></div>'
    )


def legend() -> str:
    items = [("intent", "Intensjon (hva brukeren spurte om)"), ("action", "Svar eller handling"),
             ("crisis", "Krise"), ("fallback", "Forsto ikke (fallback)")]
    return '<ul class="legend">' + "".join(
        f'<li><svg width="14" height="14" aria-hidden="true"><rect width="14" height="14" rx="3" '
        f'fill="{FILL[kind]}" stroke="#6b6780"/></svg> {esc(text)}</li>' for kind, text in items
    ) + "</ul>"


# ---- handlers ------------------------------------------------------------------------------------

class BadPeriod(Exception):
    """`dager` is not one of PERIODS."""


def get_days(request: web.Request) -> int:
    """One of the fixed PERIODS: totals over any number of days would give a small day's count
    away as the difference between two neighbouring periods."""
    raw = request.query.get("dager", "30")
    if not raw.isdigit() or int(raw) not in PERIODS:
        raise BadPeriod(raw)
    return int(raw)


def bad_period(html_page: bool) -> web.Response:
    allowed = ", ".join(str(d) for d in PERIODS)
    message = f"Ugyldig periode. Velg dager={allowed}."
    if html_page:
        return page("Ugyldig periode", f'<p class="error" role="alert">{esc(message)}</p>'
                    + period_links("/staff", 30), status=400)
    return web.Response(status=400, text=message + "\n", content_type="text/plain")


def login_required(html_page: bool = True) -> Callable[[Handler], Handler]:
    def wrap(handler: Handler) -> Handler:
        async def inner(request: web.Request) -> web.StreamResponse:
            if configured_hash() is None:
                return setup_page()
            auth: Auth = request.app["staff_auth"]
            if not auth.valid(request.cookies.get(COOKIE)):
                if html_page:
                    return redirect("/staff/login")
                return web.Response(status=401, text="Logg inn på /staff/login.\n",
                                    headers={"WWW-Authenticate": 'Cookie realm="staff"'})
            try:
                return await handler(request)
            except BadPeriod:
                return bad_period(html_page)

        return inner

    return wrap


async def load_report(request: web.Request, days: int) -> flows.Report:
    store = request.app["flows_store"]
    return await asyncio.to_thread(flows.report, store, days)


@login_required()
async def overview(request: web.Request) -> web.Response:
    days = get_days(request)
    rep = await load_report(request, days)
    k = rep.k
    exits = rep.total(flows.EXIT)
    summary = [
        ("Samtaler", flows.shown(rep.total(flows.CONVERSATIONS), k)),
        ("Meldinger fra brukere", flows.shown(rep.total(flows.TURNS), k)),
        ("Andel meldinger boten ikke forsto", rep.fallback_rate()),
        ("Samtaler med minst én fallback",
         flows.shown(rep.total(flows.FALLBACK_CONVERSATIONS), k)),
        ("Hurtigexit brukt", flows.shown(exits, k)),
        ("Tilbakemelding: nyttig", flows.shown(rep.total(flows.FEEDBACK, flows.HELPFUL), k)),
        ("Tilbakemelding: ikke nyttig",
         flows.shown(rep.total(flows.FEEDBACK, flows.NOT_HELPFUL), k)),
    ]
    dl = '<dl class="summary">' + "".join(
        f'<div><dt>{esc(t)}</dt><dd>{esc(v)}</dd></div>' for t, v in summary
    ) + "</dl>"
    crisis_rows = [
        [CRISIS_LABELS.get(c, c), flows.shown(rep.total(flows.CRISIS, c), k),
         flows.shown(rep.total(flows.ESCALATION, c), k),
         flows.shown(rep.total(flows.CRISIS_NEGATED, c), k)]
        for c in sorted(flows.names().crisis, key=lambda c: (list(CRISIS_LABELS) + [c]).index(c))
    ]
    volume = [
        [d, flows.shown(rep.counts.get((d, flows.CONVERSATIONS, flows.TOTAL), 0), k),
         flows.shown(rep.counts.get((d, flows.TURNS, flows.TOTAL), 0), k),
         flows.shown(rep.counts.get((d, flows.FALLBACK_TURNS, flows.TOTAL), 0), k)]
        for d in reversed(rep.days)
    ]
    intents = [[name, flows.shown(n, k)] for name, n in rep.by_key(flows.INTENT).most_common(15)]
    body = (
        period_links("/staff", days) + dl
        + "<h2>Krise</h2>"
        + table(["Kategori", "Samtaler med krise", "Kriserespons vist", "Avkreftet"],
                crisis_rows)
        + "<h2>Vanligste intensjoner</h2>"
        + table(["Intensjon", "Meldinger"], intents)
        + "<h2>Volum per dag</h2>"
        + table(["Dag", "Samtaler", "Meldinger", "Fallback"], volume, "volume")
        + k_note(k)
    )
    return page("Oversikt", body, days=days)


@login_required()
async def flow_page(request: web.Request) -> web.Response:
    days = get_days(request)
    rep = await load_report(request, days)
    common, rare = rep.common_paths(12)
    rows = [[p, flows.shown(n, rep.k)] for p, n in common]
    body = (
        period_links("/staff/flyt", days)
        + "<p>De vanligste samtaleforløpene fra start. Like begynnelser er slått sammen; tykkere "
        "linjer betyr flere samtaler. Stier er kortet ned til "
        f"{flows.PATH_CAP} steg.</p>"
        + legend() + flow_svg(common, rep.k)
        + "<h2>Vanligste stier</h2>" + table(["Sti", "Samtaler"], rows)
        + f"<p>Samtaler med sjeldnere stier (vises ikke enkeltvis): "
        f"{esc(flows.shown(rare, rep.k))}</p>"
        + k_note(rep.k)
    )
    return page("Flytbilde", body, days=days)


@login_required()
async def confidence_page(request: web.Request) -> web.Response:
    days = get_days(request)
    rep = await load_report(request, days)
    rows = [list(r) for r in rep.mean_confidence()[:25]]
    body = (
        period_links("/staff/tillit", days)
        + "<p>Intensjoner der språkmodellen var minst sikker (snitt av tillit, avrundet til "
        "tideler per melding). Lav tillit tyder på at treningsdataene trenger flere eksempler."
        f" Snitt vises bare for intensjoner sett minst {rep.k} ganger.</p>"
        + table(["Intensjon", "Meldinger", "Snitt tillit"], rows)
        + k_note(rep.k)
    )
    return page("Laveste tillit", body, days=days)


def safe_cell(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@login_required(html_page=False)
async def export_csv(request: web.Request) -> web.Response:
    rep = await load_report(request, get_days(request))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in flows.csv_rows(rep):
        writer.writerow([safe_cell(c) for c in row])
    name = f"vonr-flyt-{rep.days[0]}-{rep.days[-1]}.csv"
    return web.Response(text=out.getvalue(), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


@login_required(html_page=False)
async def export_stories(request: web.Request) -> web.Response:
    rep = await load_report(request, get_days(request))
    return web.Response(text=flows.stories_yaml(rep), content_type="application/x-yaml",
                        charset="utf-8",
                        headers={"Content-Disposition": 'attachment; filename="stories.yml"'})


async def login_get(request: web.Request) -> web.Response:
    if configured_hash() is None:
        return setup_page()
    if request.app["staff_auth"].valid(request.cookies.get(COOKIE)):
        return redirect("/staff")
    return login_page()


async def login_post(request: web.Request) -> web.Response:
    stored = configured_hash()
    if stored is None:
        return setup_page()
    auth: Auth = request.app["staff_auth"]
    if not same_origin(request):
        return login_page("Innloggingen må sendes fra denne siden.", 403)
    form = await request.post()
    password = form.get("password")
    ok = await auth.check(password if isinstance(password, str) else None, stored)
    if ok is None:
        return login_page("Mange prøver å logge inn akkurat nå. Prøv igjen om noen sekunder.",
                          429)
    if not ok:
        return login_page("Feil passord.", 401)
    response = redirect("/staff")
    set_session_cookie(request, response, auth.new_session())
    return response


async def logout(request: web.Request) -> web.Response:
    if not same_origin(request):
        return web.Response(status=403, text="Forbudt.\n")
    request.app["staff_auth"].end(request.cookies.get(COOKIE))
    response = redirect("/staff/login")
    response.del_cookie(COOKIE, path="/staff")
    return response


async def to_overview(request: web.Request) -> web.Response:
    return redirect("/staff")


async def staff_css(request: web.Request) -> web.Response:
    return web.Response(text=(STATIC / "staff.css").read_text(encoding="utf-8"),
                        content_type="text/css")


# ---- public event endpoints (the widget) ------------------------------------------------------

class EventLimiter(RateLimiter):
    """Per client (keyed hash of the address, in memory) events per minute."""

    def __init__(self, limit: int | None = None, window: float = 60) -> None:
        limit = limit or int(os.environ.get("RATE_LIMIT_EVENTS", 30))
        super().__init__(limit=limit, window=window)

    def allow(self, address: str) -> bool:
        return super().allow(self.client_key(address))


async def _event(request: web.Request) -> tuple[bytes | None, web.Response | None]:
    if not request.app["flows_limiter"].allow(request.remote or ""):
        return None, web.json_response({"error": "For mange forespørsler."}, status=429)
    raw = await request.content.read(EVENT_BODY_BYTES + 1)
    if len(raw) > EVENT_BODY_BYTES:
        return None, web.json_response({"error": "For stor forespørsel."}, status=413)
    return raw, None


async def event_exit(request: web.Request) -> web.Response:
    _, problem = await _event(request)  # the body is ignored (sendBeacon may send anything)
    if problem is not None:
        return problem
    await asyncio.to_thread(flows.record_event, request.app["flows_store"], flows.EXIT)
    return web.Response(status=204)


async def event_feedback(request: web.Request) -> web.Response:
    raw, problem = await _event(request)
    if problem is not None:
        return problem
    try:
        body = json.loads((raw or b"").decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        body = None
    helpful = body.get("helpful") if isinstance(body, dict) else None
    if not isinstance(helpful, bool):
        return web.json_response({"error": 'Forventet {"helpful": true} eller false.'},
                                 status=400)
    key = flows.HELPFUL if helpful else flows.NOT_HELPFUL
    await asyncio.to_thread(flows.record_event, request.app["flows_store"], flows.FEEDBACK, key)
    return web.Response(status=204)


async def preflight(request: web.Request) -> web.Response:
    return web.Response(status=204)


async def staff_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Staff pages post forms to themselves and are never framed (runs after the gateway's
    security-header middleware)."""
    if not request.path.startswith("/staff"):
        return
    csp = response.headers.get("Content-Security-Policy", "")
    if csp:
        csp = csp.replace("form-action 'none'", "form-action 'self'")
        head, sep, _ = csp.partition("frame-ancestors")
        response.headers["Content-Security-Policy"] = head + sep + " 'none'" if sep else csp
    # The pages link nowhere else; "same-origin" lets the browser send Origin on our own form
    # posts (with "no-referrer" Chromium sends "Origin: null"), which login and logout check.
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"


class LazyStore(flows.Store):
    """The flow store, opened on first use (so a gateway that nobody asks creates no file)."""

    def __init__(self) -> None:
        self._store: flows.Store | None = None

    def get(self) -> flows.Store:
        if self._store is None:
            self._store = flows.open_store()
        return self._store

    def add(self, counts: flows.Counts) -> None:
        self.get().add(counts)

    def read(self, days: Any) -> flows.Counts:
        return self.get().read(days)


def setup(app: web.Application) -> None:
    """Adds the staff pages, exports and the widget's event endpoints to the gateway."""
    app["staff_auth"] = Auth()
    app["flows_store"] = LazyStore()
    app["flows_limiter"] = EventLimiter()
    app.on_response_prepare.append(staff_headers)
    r = app.router
    r.add_get("/staff", overview)
    r.add_get("/staff/", to_overview)
    r.add_get("/staff/flyt", flow_page)
    r.add_get("/staff/tillit", confidence_page)
    r.add_get("/staff/export.csv", export_csv)
    r.add_get("/staff/export/stories.yml", export_stories)
    r.add_get("/staff/login", login_get)
    r.add_post("/staff/login", login_post)
    r.add_post("/staff/logout", logout)
    r.add_get("/staff/staff.css", staff_css)
    r.add_post("/events/exit", event_exit)
    r.add_post("/events/feedback", event_feedback)
    r.add_route("OPTIONS", "/events/exit", preflight)
    r.add_route("OPTIONS", "/events/feedback", preflight)


def main(argv: list[str]) -> int:
    if argv[:1] != ["hash"]:
        print("usage: python -m bot.staff hash   (reads the password from stdin or a prompt)",
              file=sys.stderr)
        return 2
    if sys.stdin.isatty():
        import getpass

        password = getpass.getpass("Nytt passord for ansatte: ")
        if getpass.getpass("Gjenta passordet: ") != password:
            print("Passordene er ulike.", file=sys.stderr)
            return 1
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 12:
        print("Passordet må ha minst 12 tegn.", file=sys.stderr)
        return 1
    print(hash_password(password))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
