"""Staff review of anonymised conversation flows, on the gateway under /staff: `auth` (password,
sessions, the login budget), `pages` (the pages and exports), `svg` (the flow picture).
`python -m bot.staff hash` makes a password hash for STAFF_PASSWORD_HASH."""

from __future__ import annotations

from aiohttp import web

from bot.flows.store import Store
from bot.headers import AREAS, Area
from bot.staff import pages
from bot.staff.auth import AUTH, Auth

# Staff pages post forms to themselves, are never framed and never indexed. They link nowhere
# else; "same-origin" lets the browser send Origin on our own form posts (with "no-referrer"
# Chromium sends "Origin: null"), which login and logout check.
AREA = Area(form_action="'self'", frame_ancestors=("'none'",), headers={
    "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow", "Cache-Control": "no-store",
})


def setup(app: web.Application, store: Store) -> None:
    """Adds the staff pages and exports to the gateway; they read the counts from `store`."""
    app[AUTH] = Auth()
    app[pages.FLOWS_STORE] = store
    app.setdefault(AREAS, {})["/staff"] = AREA
    r = app.router
    r.add_get("/staff", pages.overview)
    r.add_get("/staff/", pages.to_overview)
    r.add_get("/staff/flyt", pages.flow_page)
    r.add_get("/staff/tillit", pages.confidence_page)
    r.add_get("/staff/export.csv", pages.export_csv)
    r.add_get("/staff/export/stories.yml", pages.export_stories)
    r.add_get("/staff/login", pages.login_get)
    r.add_post("/staff/login", pages.login_post)
    r.add_post("/staff/logout", pages.logout)
    r.add_get("/staff/staff.css", pages.staff_css)
