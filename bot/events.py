"""The widget's public event endpoint: POST /events/exit counts a use of the quick exit, per day,
with no body, no id and no address kept (the widget sends it with sendBeacon as it leaves)."""

from __future__ import annotations

import asyncio
import os

from aiohttp import web

from bot import content, flows
from bot.flows.store import Store, record_event
from bot.ratelimit import RateLimiter

EVENT_BODY_BYTES = 1024


class EventLimiter(RateLimiter):
    """Per client (keyed hash of the address, in memory) events per minute."""

    def __init__(self, limit: int | None = None, window: float = 60) -> None:
        limit = limit or int(os.environ.get("RATE_LIMIT_EVENTS", 30))
        super().__init__(limit=limit, window=window)

    def allow(self, address: str) -> bool:
        return super().allow(self.client_key(address))


LIMITER = web.AppKey("events_limiter", EventLimiter)
STORE = web.AppKey("events_store", Store)


async def event_exit(request: web.Request) -> web.Response:
    if not request.app[LIMITER].allow(request.remote or ""):
        return web.json_response({"error": content.render("gateway.event_too_many")},
                                 status=429)
    # The body is ignored (sendBeacon may send anything), but never read beyond a small limit.
    if len(await request.content.read(EVENT_BODY_BYTES + 1)) > EVENT_BODY_BYTES:
        return web.json_response({"error": content.render("gateway.event_too_large")},
                                 status=413)
    await asyncio.to_thread(record_event, request.app[STORE], flows.EXIT)
    return web.Response(status=204)


async def preflight(request: web.Request) -> web.Response:
    return web.Response(status=204)


def setup(app: web.Application, store: Store) -> None:
    app[LIMITER] = EventLimiter()
    app[STORE] = store
    app.router.add_post("/events/exit", event_exit)
    app.router.add_route("OPTIONS", "/events/exit", preflight)
