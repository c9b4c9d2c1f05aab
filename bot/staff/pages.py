"""The staff pages: server-rendered Bokmål (copy in data/content/staff.yml), no scripts, one static
stylesheet, the flow picture as inline SVG; CSV and Rasa-story exports. Every count passes through
`flows.shown` (k-anonymity) before it is shown."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from bot import content, flows
from bot.flows import report as flow_report
from bot.flows.store import Store
from bot.staff.auth import (
    AUTH,
    COOKIE,
    MAX_PASSWORD_CHARS,
    configured_hash,
    same_origin,
    set_session_cookie,
)
from bot.staff.svg import esc, flow_svg, legend

STATIC = Path(__file__).resolve().parent.parent / "static"
PERIODS = (7, 30, 90, 365)
FLOWS_STORE = web.AppKey("flows_store", Store)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def t(key: str, **fields: Any) -> Any:
    """The staff copy at dotted `key`, with its {fields} filled when it is text."""
    value: Any = content.staff()
    for part in key.split("."):
        value = value[part]
    return value.format(**fields) if isinstance(value, str) and fields else value


# ---- HTML --------------------------------------------------------------------------------------

def page(title: str, body: str, nav: bool = True, status: int = 200,
         days: int | None = None) -> web.Response:
    q = f"?dager={days}" if days else ""
    links = (
        f'<nav aria-label="{esc(t("nav.label"))}"><a href="/staff{q}">{esc(t("nav.overview"))}</a>'
        f'<a href="/staff/flyt{q}">{esc(t("nav.flow"))}</a>'
        f'<a href="/staff/tillit{q}">{esc(t("nav.confidence"))}</a>'
        f'<a href="/staff/export.csv{q}">{esc(t("nav.csv"))}</a>'
        f'<a href="/staff/export/stories.yml{q}">{esc(t("nav.stories"))}</a>'
        '<form method="post" action="/staff/logout">'
        f'<button type="submit">{esc(t("nav.logout"))}</button></form></nav>'
    ) if nav else ""
    text = (
        '<!doctype html><html lang="nb"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex, nofollow">'
        f"<title>{esc(title)}{esc(t('title_suffix'))}</title>"
        '<link rel="stylesheet" href="/staff/staff.css"></head><body>'
        f'<header><p class="brand">{esc(t("brand"))}</p>{links}</header>'
        f"<main><h1>{esc(title)}</h1>{body}</main></body></html>"
    )
    return web.Response(text=text, content_type="text/html", status=status)


def setup_page() -> web.Response:
    return page(t("setup.title"), t("setup.body_html"), nav=False, status=503)


def login_page(message: str = "", status: int = 200) -> web.Response:
    note = f'<p class="error" role="alert">{esc(message)}</p>' if message else ""
    body = (
        f"{note}<form method=\"post\" action=\"/staff/login\" class=\"login\">"
        f'<label for="password">{esc(t("login.password"))}</label>'
        '<input id="password" name="password" type="password" autocomplete="current-password" '
        f'required autofocus maxlength="{MAX_PASSWORD_CHARS}">'
        f'<button type="submit">{esc(t("login.submit"))}</button></form>'
        f'<p class="note">{t("login.note_html")}</p>'
    )
    return page(t("login.title"), body, nav=False, status=status)


def redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location})


def table(head: list[str], rows: list[list[Any]], cls: str = "") -> str:
    th = "".join(f'<th scope="col">{esc(h)}</th>' for h in head)
    trs = "".join(
        "<tr>" + "".join(
            f'<td class="n">{esc(c)}</td>' if i else f"<td>{esc(c)}</td>" for i, c in enumerate(r)
        ) + "</tr>" for r in rows
    ) or f'<tr><td colspan="{len(head)}">{esc(t("no_data"))}</td></tr>'
    return f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>'


def period_links(path: str, days: int) -> str:
    links = " ".join(
        f'<a href="{path}?dager={d}"' + (' aria-current="page"' if d == days else "")
        + f">{esc(t('days', days=d))}</a>" for d in PERIODS
    )
    return f'<p class="period">{esc(t("period"))}{links}</p>'


def k_note(k: int) -> str:
    return f'<p class="note">{esc(t("k_note", k=k))}</p>'


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
    message = t("bad_period.message", allowed=", ".join(str(d) for d in PERIODS))
    if html_page:
        return page(t("bad_period.title"), f'<p class="error" role="alert">{esc(message)}</p>'
                    + period_links("/staff", 30), status=400)
    return web.Response(status=400, text=message + "\n", content_type="text/plain")


def login_required(html_page: bool = True) -> Callable[[Handler], Handler]:
    def wrap(handler: Handler) -> Handler:
        async def inner(request: web.Request) -> web.StreamResponse:
            if configured_hash() is None:
                return setup_page()
            if not request.app[AUTH].valid(request.cookies.get(COOKIE)):
                if html_page:
                    return redirect("/staff/login")
                return web.Response(status=401, text=t("login.required") + "\n",
                                    headers={"WWW-Authenticate": 'Cookie realm="staff"'})
            try:
                return await handler(request)
            except BadPeriod:
                return bad_period(html_page)

        return inner

    return wrap


async def load_report(request: web.Request, days: int) -> flow_report.Report:
    return await asyncio.to_thread(flow_report.report, request.app[FLOWS_STORE], days)


def crisis_order(categories: tuple[str, ...]) -> list[str]:
    labels = list(t("crisis_labels"))
    return sorted(categories, key=lambda c: (labels + [c]).index(c))


@login_required()
async def overview(request: web.Request) -> web.Response:
    days = get_days(request)
    rep = await load_report(request, days)
    k, shown, labels = rep.k, flows.shown, t("crisis_labels")
    summary = [
        (t("overview.conversations"), shown(rep.total(flows.CONVERSATIONS), k)),
        (t("overview.turns"), shown(rep.total(flows.TURNS), k)),
        (t("overview.fallback_rate"), rep.fallback_rate()),
        (t("overview.fallback_conversations"), shown(rep.total(flows.FALLBACK_CONVERSATIONS), k)),
        (t("overview.exits"), shown(rep.total(flows.EXIT), k)),
    ]
    dl = '<dl class="summary">' + "".join(
        f'<div><dt>{esc(name)}</dt><dd>{esc(v)}</dd></div>' for name, v in summary
    ) + "</dl>"
    crisis_rows = [
        [labels.get(c, c), shown(rep.total(flows.CRISIS, c), k),
         shown(rep.total(flows.ESCALATION, c), k), shown(rep.total(flows.CRISIS_NEGATED, c), k)]
        for c in crisis_order(flows.names().crisis)
    ]
    volume = [
        [d, shown(rep.counts.get((d, flows.CONVERSATIONS, flows.TOTAL), 0), k),
         shown(rep.counts.get((d, flows.TURNS, flows.TOTAL), 0), k),
         shown(rep.counts.get((d, flows.FALLBACK_TURNS, flows.TOTAL), 0), k)]
        for d in reversed(rep.days)
    ]
    intents = [[name, shown(n, k)] for name, n in rep.by_key(flows.INTENT).most_common(15)]
    body = (
        period_links("/staff", days) + dl
        + f"<h2>{esc(t('overview.crisis'))}</h2>" + table(t("overview.crisis_head"), crisis_rows)
        + f"<h2>{esc(t('overview.intents'))}</h2>" + table(t("overview.intents_head"), intents)
        + f"<h2>{esc(t('overview.volume'))}</h2>"
        + table(t("overview.volume_head"), volume, "volume")
        + k_note(k)
    )
    return page(t("overview.title"), body, days=days)


@login_required()
async def flow_page(request: web.Request) -> web.Response:
    days = get_days(request)
    rep = await load_report(request, days)
    common, rare = rep.common_paths(12)
    rows = [[p, flows.shown(n, rep.k)] for p, n in common]
    body = (
        period_links("/staff/flyt", days)
        + f"<p>{esc(t('flow.intro', cap=flows.PATH_CAP))}</p>"
        + legend() + flow_svg(common, rep.k)
        + f"<h2>{esc(t('flow.paths'))}</h2>" + table(t("flow.paths_head"), rows)
        + f"<p>{esc(t('flow.rare'))}{esc(flows.shown(rare, rep.k))}</p>"
        + k_note(rep.k)
    )
    return page(t("flow.title"), body, days=days)


@login_required()
async def confidence_page(request: web.Request) -> web.Response:
    days = get_days(request)
    rep = await load_report(request, days)
    rows = [list(r) for r in rep.mean_confidence()[:25]]
    body = (
        period_links("/staff/tillit", days)
        + f"<p>{esc(t('confidence.intro', k=rep.k))}</p>"
        + table(t("confidence.head"), rows)
        + k_note(rep.k)
    )
    return page(t("confidence.title"), body, days=days)


def safe_cell(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@login_required(html_page=False)
async def export_csv(request: web.Request) -> web.Response:
    rep = await load_report(request, get_days(request))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in flow_report.csv_rows(rep):
        writer.writerow([safe_cell(c) for c in row])
    name = f"vonr-flyt-{rep.days[0]}-{rep.days[-1]}.csv"
    return web.Response(text=out.getvalue(), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


@login_required(html_page=False)
async def export_stories(request: web.Request) -> web.Response:
    rep = await load_report(request, get_days(request))
    return web.Response(text=flow_report.stories_yaml(rep), content_type="application/x-yaml",
                        charset="utf-8",
                        headers={"Content-Disposition": 'attachment; filename="stories.yml"'})


async def login_get(request: web.Request) -> web.Response:
    if configured_hash() is None:
        return setup_page()
    if request.app[AUTH].valid(request.cookies.get(COOKIE)):
        return redirect("/staff")
    return login_page()


async def login_post(request: web.Request) -> web.Response:
    stored = configured_hash()
    if stored is None:
        return setup_page()
    auth = request.app[AUTH]
    if not same_origin(request):
        return login_page(t("login.wrong_origin"), 403)
    form = await request.post()
    password = form.get("password")
    ok = await auth.check(password if isinstance(password, str) else None, stored)
    if ok is None:
        return login_page(t("login.busy"), 429)
    if not ok:
        return login_page(t("login.wrong"), 401)
    response = redirect("/staff")
    set_session_cookie(request, response, auth.new_session())
    return response


async def logout(request: web.Request) -> web.Response:
    if not same_origin(request):
        return web.Response(status=403, text=t("login.forbidden") + "\n")
    request.app[AUTH].end(request.cookies.get(COOKIE))
    response = redirect("/staff/login")
    response.del_cookie(COOKIE, path="/staff")
    return response


async def to_overview(request: web.Request) -> web.Response:
    return redirect("/staff")


async def staff_css(request: web.Request) -> web.Response:
    return web.Response(text=(STATIC / "staff.css").read_text(encoding="utf-8"),
                        content_type="text/css")
