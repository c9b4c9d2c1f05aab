"""The security headers of every gateway response, and the Content-Security-Policy built from
parameters. An area of the site (by path prefix) may set its own: the staff pages post forms to
themselves and are never framed; the public pages may be framed by the allowed origins and post
nothing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from aiohttp import web

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "geolocation=(), camera=(), microphone=(), interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "cross-origin",
}


@dataclass(frozen=True)
class Area:
    """What differs between areas of the site: two CSP directives and further headers."""

    form_action: str = "'none'"
    frame_ancestors: tuple[str, ...] | None = None  # None: 'self' and the allowed origins
    headers: Mapping[str, str] = field(default_factory=dict)  # beside SECURITY_HEADERS


PUBLIC = Area()
# Areas with their own headers, by path prefix (the staff pages add theirs).
AREAS = web.AppKey("areas", dict[str, Area])


def content_security_policy(area: Area, origins: Iterable[str]) -> str:
    ancestors = area.frame_ancestors or ("'self'", *origins)
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        f"connect-src 'self'; form-action {area.form_action}; base-uri 'none'; "
        f"frame-ancestors {' '.join(ancestors)}"
    )


def area_for(app: web.Application, path: str) -> Area:
    for prefix, area in app.get(AREAS, {}).items():
        if path.startswith(prefix):
            return area
    return PUBLIC


def headers_for(app: web.Application, path: str, origins: Iterable[str]) -> dict[str, str]:
    """Every security header of a response to `path`."""
    area = area_for(app, path)
    return {**SECURITY_HEADERS, **area.headers,
            "Content-Security-Policy": content_security_policy(area, origins)}
