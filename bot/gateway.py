"""The public HTTP entry point (aiohttp): serves the widget, the demo and privacy pages, and
forwards chat messages to Rasa after validation and redaction. It never logs message text or
addresses, sets no cookies, and answers with the helpline card when Rasa cannot."""

from __future__ import annotations

import argparse
import asyncio
import functools
import html
import ipaddress
import json
import logging
import os
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import aiohttp.web_response
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from bot import content, events, redact, registry, staff
from bot.flows.store import LazyStore
from bot.headers import headers_for
from bot.ratelimit import RateLimiter
from bot.staff import auth as staff_auth

STATIC = Path(__file__).resolve().parent / "static"
OPENAPI = STATIC.parent.parent / "docs" / "openapi.yaml"
MAX_MESSAGE_CHARS = 1000
MAX_BODY_BYTES = 16 * 1024
SENDER_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
# Rasa's command syntax: /intent, optionally @confidence and {"entity": "value"}.
COMMAND_RE = re.compile(r"^/+\s*([^\s{@/]*)(?:@[0-9.]*)?\s*(?:\{.*\})?\s*$", re.DOTALL)
# Parts of a conversation id that make it personal: a word pair («kari_nordmann_1990») or a
# phone number on its own («4791234567», «004791234567»). Random ids (the widget's: 24 random
# characters of [A-Za-z0-9_-]) have neither, but for one in millions.
ID_WORD_RE = re.compile(r"^[A-Za-z][a-z]{2,}$")
# The Server header names no software or version (aiohttp sets its own in every response,
# including the ones it writes itself for malformed HTTP).
aiohttp.web_response.SERVER_SOFTWARE = "vonr"
# Where the quick exit goes (the widget's data-exit-url on our own pages); EXIT_URL overrides.
DEFAULT_EXIT_URL = "https://www.yr.no"
log = logging.getLogger("vonr.gateway")

RASA_URL = web.AppKey("rasa_url", str)
ACTIONS_URL = web.AppKey("actions_url", str)
ORIGINS = web.AppKey("origins", list[str])
EXIT_URL = web.AppKey("exit_url", str)
TIMEOUT = web.AppKey("timeout", aiohttp.ClientTimeout)
PER_CONVERSATION = web.AppKey("per_conversation", RateLimiter)
PER_CLIENT = web.AppKey("per_client", RateLimiter)
SESSION = web.AppKey("session", aiohttp.ClientSession)


def text(key: str, **fmt: Any) -> str:
    return content.render("gateway." + key, **fmt)


def call_buttons() -> list[dict[str, str]]:
    return content.call_buttons("vo_linjen", "police_emergency")


def helpline_card(sender: str = "") -> list[dict[str, Any]]:
    return [{"recipient_id": sender, "text": text("unavailable"), "buttons": call_buttons()}]


@functools.lru_cache(maxsize=1)
def button_payloads() -> frozenset[str]:
    """The commands a message may be: the payloads of the domain's own buttons and of the topic
    buttons the NLG offers when it is unsure ("Mente du ...?")."""
    render = registry.load().render
    domain_buttons = {
        render(str(button["payload"]))
        for variations in content.responses().values()
        for variation in variations or []
        for button in (variation.get("buttons") or [])
        if str(button.get("payload", "")).startswith("/")
    }
    return frozenset(domain_buttons | {"/" + intent for intent in content.topics()})


def as_text(message: str) -> str:
    """A message as Rasa may see it. One of our buttons' payloads passes as the command it is;
    anything else that starts with "/" would make Rasa skip the NLU and the crisis check and
    take the intent and entities as written («/restart», «/inform{"navn": "..."}»), so it is
    made text: the slash goes, and so does the entity JSON (a value in it, in lower case, is
    not something the redactor can recognise as a name)."""
    if message in button_payloads():
        return message
    if message.startswith("/"):
        command = COMMAND_RE.match(message)
        message = command.group(1).replace("_", " ") if command else message.lstrip("/ ")
    return redact.redact(message)


def personal_sender(sender: str) -> bool:
    """Whether a conversation id carries personal data: what the redactor finds in it, a phone
    or identity number made only of digits, or two words in a row (a name)."""
    if sender.isdigit() or any(redact.redact(p) != p for p in [sender, *sender.split("_")]):
        return True  # "_" is a word character, so the redactor sees «kari_91234567» as one word
    parts = re.split(r"[_-]", sender)
    pairs = zip(parts, parts[1:], strict=False)
    return any(ID_WORD_RE.match(a) and ID_WORD_RE.match(b) for a, b in pairs)


def is_loopback(request: web.Request) -> bool:
    """A request from this machine that no proxy forwarded."""
    if any(h in request.headers for h in ("Forwarded", "X-Forwarded-For", "X-Real-IP")):
        return False
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False


HTTP_ERRORS = {404: "not_found", 405: "not_allowed", 413: "too_long"}


def error(status: int, key: str, **fmt: Any) -> web.Response:
    return web.json_response({"error": text(key, **fmt)}, status=status)


@web.middleware
async def security_headers(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        key = HTTP_ERRORS.get(exc.status, "bad_request" if exc.status < 500 else "unavailable")
        response = error(exc.status, key, limit=MAX_MESSAGE_CHARS)
        if "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # never a bare 500 page without our headers; never the message text
        log.error("unhandled %s", type(exc).__name__)
        response = error(500, "unavailable")
    origins = request.app[ORIGINS]
    response.headers.update(headers_for(request.app, request.path, origins))
    origin = request.headers.get("Origin")
    if origin and origin in origins:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Max-Age"] = "600"
        response.headers["Vary"] = "Origin"
    return response


async def webhook(request: web.Request) -> web.StreamResponse:
    app = request.app
    if request.content_length and request.content_length > MAX_BODY_BYTES:
        return error(413, "too_long", limit=MAX_MESSAGE_CHARS)
    try:
        raw = await request.content.read(MAX_BODY_BYTES + 1)
        if len(raw) > MAX_BODY_BYTES:
            return error(413, "too_long", limit=MAX_MESSAGE_CHARS)
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return error(400, "bad_json")
    if not isinstance(body, dict):
        return error(400, "bad_json")
    sender, message = body.get("sender"), body.get("message")
    # A conversation id is random; one that carries personal data (a phone number, say) is
    # refused, never forwarded or echoed.
    if not isinstance(sender, str) or SENDER_RE.match(sender) is None:
        return error(400, "bad_sender")
    if personal_sender(sender):
        return error(400, "personal_sender")
    if not isinstance(message, str):
        return error(400, "bad_message")
    # Normalised first, so a full-width "／" cannot become a command after the checks below.
    message = redact.normalise(message)
    message = "".join(ch for ch in message if ch.isprintable() or ch in "\n\t").strip()
    if not message:
        return error(400, "empty")
    if len(message) > MAX_MESSAGE_CHARS:
        return error(413, "too_long", limit=MAX_MESSAGE_CHARS)
    limiter, clients = app[PER_CONVERSATION], app[PER_CLIENT]
    if not limiter.allow(sender) or not clients.allow(clients.client_key(request.remote or "")):
        # The helpline numbers and call buttons, as on the card when Rasa cannot answer.
        return web.json_response({"error": text("too_many"), "buttons": call_buttons()},
                                 status=429)
    message = as_text(message)
    if not message:
        return error(400, "empty")
    payload = {"sender": sender, "message": message}
    try:
        async with app[SESSION].post(
            app[RASA_URL] + "/webhooks/rest/webhook", json=payload, timeout=app[TIMEOUT]
        ) as resp:
            if resp.status != 200:
                raise aiohttp.ClientResponseError(resp.request_info, (), status=resp.status)
            replies = await resp.json()
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
        log.warning("rasa unavailable; sent the helpline card")
        return web.json_response(helpline_card(sender), status=503)
    if not replies:
        replies = helpline_card(sender)
    return web.json_response([
        {k: r[k] for k in ("recipient_id", "text", "buttons") if k in r} for r in replies
    ])


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """What the product depends on, for this machine's monitoring and logged-in staff only."""
    app = request.app
    if not is_loopback(request) and not staff_auth.logged_in(request):
        return error(404, "not_found")
    checks = {"rasa": app[RASA_URL] + "/", "actions": app[ACTIONS_URL] + "/health"}
    results: dict[str, bool] = {}
    for name, url in checks.items():
        try:
            async with app[SESSION].get(url, timeout=aiohttp.ClientTimeout(total=2)) as resp:
                results[name] = resp.status == 200
        except (aiohttp.ClientError, asyncio.TimeoutError):
            results[name] = False
    if os.environ.get("REDIS_URL"):
        results["redis"] = await redis_ok(os.environ["REDIS_URL"])
    ok = all(results.values())
    return web.json_response({"ready": ok, "checks": results}, status=200 if ok else 503)


async def redis_ok(url: str) -> bool:
    import redis.asyncio as aioredis

    client = aioredis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        return bool(await client.ping())
    except Exception:  # any failure means "not ready", never a crash
        return False
    finally:
        await client.close()


async def options(request: web.Request) -> web.Response:
    return web.Response(status=204)


def exit_url(value: str | None) -> str:
    """The configured quick-exit target: an absolute http(s) URL or a path on this host."""
    value = (value or "").strip()
    if re.match(r"^(https?://[^\s\"'<>]+|/[^/\s\"'<>][^\s\"'<>]*)$", value):
        return value
    return DEFAULT_EXIT_URL


def static_file(path: Path, content_type: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        body = path.read_text(encoding="utf-8")
        if content_type == "text/html":
            body = body.replace("{{exit_url}}", html.escape(request.app[EXIT_URL], quote=True))
        body = registry.load().render(content.fill(body))
        return web.Response(text=body, content_type=content_type)

    return handler


def create_app(
    rasa_url: str | None = None, actions_url: str | None = None, origins: list[str] | None = None,
    exit_to: str | None = None,
) -> web.Application:
    app = web.Application(middlewares=[security_headers], client_max_size=MAX_BODY_BYTES)
    app[RASA_URL] = (rasa_url or os.environ.get("RASA_URL", "http://127.0.0.1:5005")).rstrip("/")
    app[ACTIONS_URL] = (
        actions_url or os.environ.get("ACTIONS_URL", "http://127.0.0.1:5055")
    ).rstrip("/")
    app[ORIGINS] = origins if origins is not None else [
        o for o in os.environ.get("ALLOWED_ORIGINS", "").split(",") if o
    ]
    app[EXIT_URL] = exit_url(exit_to or os.environ.get("EXIT_URL"))
    app[TIMEOUT] = aiohttp.ClientTimeout(total=float(os.environ.get("RASA_TIMEOUT", 10)))
    # Messages per minute. Behind an ingress every client may share one address: raise
    # RATE_LIMIT_CLIENT there, or let the ingress limit (docs/deployment.md).
    app[PER_CONVERSATION] = RateLimiter(limit=int(os.environ.get("RATE_LIMIT_CONVERSATION", 30)),
                                        window=60)
    app[PER_CLIENT] = RateLimiter(limit=int(os.environ.get("RATE_LIMIT_CLIENT", 120)), window=60)

    # At most RASA_CONCURRENCY requests in flight to Rasa; the rest wait here, first come first
    # served. Rasa runs one turn at a time on its CPU, and every request it has accepted shares
    # that CPU, so a queue in front of it answers sooner on average and far sooner at p95
    # (docs/performance.md); a request still waiting when RASA_TIMEOUT runs out gets the
    # helpline card. Behind a load balancer, set it to about 3 per Rasa instance.
    limit = int(os.environ.get("RASA_CONCURRENCY", 3))

    async def session_ctx(app: web.Application) -> Any:
        app[SESSION] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit))
        yield
        await app[SESSION].close()

    app.cleanup_ctx.append(session_ctx)
    app.router.add_get("/", static_file(STATIC / "index.html", "text/html"))
    app.router.add_get("/personvern", static_file(STATIC / "privacy.html", "text/html"))
    app.router.add_get("/widget.js", static_file(STATIC / "widget.js", "application/javascript"))
    app.router.add_get("/widget.css", static_file(STATIC / "widget.css", "text/css"))
    app.router.add_get("/page.css", static_file(STATIC / "page.css", "text/css"))
    app.router.add_get("/neutral", static_file(STATIC / "neutral.html", "text/html"))
    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_route("OPTIONS", "/webhooks/rest/webhook", options)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    # The public endpoints, described.
    app.router.add_get("/openapi.yaml", static_file(OPENAPI, "application/yaml"))
    # The flow counts, opened on first use (a gateway that nobody asks creates no file).
    counts = LazyStore()
    staff.setup(app, counts)
    events.setup(app, counts)
    return app


class PrivateAccessLogger(AbstractAccessLogger):
    """Method, route, status and time only: no address, no query string, no made-up path."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        route = getattr(request, "match_info", None)
        resource = route.route.resource if route is not None and route.route else None
        path = resource.canonical if resource is not None else "-"
        self.logger.info("%s %s %s %.3f", request.method, path, response.status, time)


def main() -> None:
    parser = argparse.ArgumentParser(description="vonr-bot gateway")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8080)))
    parser.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # No %a (remote address) and no query string in the access log.
    web.run_app(create_app(), host=args.host, port=args.port,
                access_log_class=PrivateAccessLogger, print=None)


if __name__ == "__main__":
    main()
