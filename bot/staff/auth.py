"""Staff access: a password whose scrypt hash is in STAFF_PASSWORD_HASH (`python -m bot.staff hash`
makes one). There is no default password; without the variable the pages explain how to set one.
Login attempts share one budget, whatever address they come from (behind an ingress every address
is the ingress's): they are checked one at a time, and after a few wrong ones each check waits a
delay that doubles with every further wrong one in the last 15 minutes, up to a few seconds. No
one is locked out: the right password is always checked, after at most that delay for each
attempt queued before it (at most MAX_PENDING). A session is a random token in the `vonr_staff`
cookie (HttpOnly, SameSite=Strict, Secure except on localhost, Path=/staff), known server-side
only as its SHA-256 and held in memory, so a gateway restart logs everyone out. It is the only
cookie the product sets.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import secrets
import time
from collections import deque

from aiohttp import web

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
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


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



AUTH = web.AppKey("staff_auth", Auth)


def logged_in(request: web.Request) -> bool:
    """Whether the request carries a valid staff session (the gateway's /readyz asks)."""
    auth = request.app.get(AUTH)
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
