"""The daily counts of the flows: SQLite in the state directory, or Redis when REDIS_URL is set.
Counts only: (day, metric, key) -> n, every day deleted or expiring after the retention period."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from bot.flows import METRICS, TOTAL, Counts, retention_days, today


class Store:
    """Where the daily counts live; `add` adds to them, `read` returns the given days'."""

    def add(self, counts: Counts) -> None:
        raise NotImplementedError

    def read(self, days: Iterable[str]) -> Counts:
        raise NotImplementedError


def state_dir() -> Path:
    if os.environ.get("VONR_STATE_DIR"):
        return Path(os.environ["VONR_STATE_DIR"])
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "vonr"


class SQLiteStore(Store):
    """Counts only, in `<state dir>/flows.sqlite3` (WAL, so the Rasa process writes while the
    gateway reads). A connection per call: both processes and the sweep thread use it."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or state_dir() / "flows.sqlite3"
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self.connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS counts (day TEXT NOT NULL, metric TEXT NOT NULL, "
                "key TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (day, metric, key)) "
                "WITHOUT ROWID"
            )
        os.chmod(self.path, 0o600)

    def connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        db.execute("PRAGMA busy_timeout=10000")
        db.execute("PRAGMA secure_delete=ON")
        return db

    def add(self, counts: Counts) -> None:
        if not counts:
            return
        cutoff = (dt.date.fromisoformat(today()) - dt.timedelta(days=retention_days())).isoformat()
        db = self.connect()
        try:
            with db:
                db.executemany(
                    "INSERT INTO counts (day, metric, key, n) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (day, metric, key) DO UPDATE SET n = n + excluded.n",
                    [(d, m, k, n) for (d, m, k), n in counts.items()],
                )
                db.execute("DELETE FROM counts WHERE day < ?", (cutoff,))
        finally:
            db.close()

    def read(self, days: Iterable[str]) -> Counts:
        days = sorted(set(days))
        if not days:
            return {}
        db = self.connect()
        try:
            rows = db.execute(
                "SELECT day, metric, key, n FROM counts WHERE day >= ? AND day <= ?",
                (days[0], days[-1]),
            ).fetchall()
        finally:
            db.close()
        wanted = set(days)
        return {(d, m, k): n for d, m, k, n in rows if d in wanted}


class RedisStore(Store):
    """One hash per day and metric, `vonr:flows:<day>:<metric>`, each with a TTL of the
    retention period (refreshed while the day is written)."""

    def __init__(self, url: str, prefix: str = "vonr:flows:") -> None:
        import redis

        self.red = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.prefix = prefix

    def key(self, day: str, metric: str) -> str:
        return f"{self.prefix}{day}:{metric}"

    def add(self, counts: Counts) -> None:
        if not counts:
            return
        ttl = retention_days() * 86400
        pipe = self.red.pipeline(transaction=True)
        keys = set()
        for (day, metric, key), n in counts.items():
            pipe.hincrby(self.key(day, metric), key, n)
            keys.add(self.key(day, metric))
        for key in keys:
            pipe.expire(key, ttl)
        pipe.execute()

    def read(self, days: Iterable[str]) -> Counts:
        pairs = [(d, m) for d in sorted(set(days)) for m in METRICS]
        pipe = self.red.pipeline(transaction=False)
        for d, m in pairs:
            pipe.hgetall(self.key(d, m))
        out: Counts = {}
        for (d, m), values in zip(pairs, pipe.execute(), strict=True):
            for k, n in (values or {}).items():
                out[(d, m, k.decode())] = int(n)
        return out


def open_store(url: str | None = None) -> Store:
    url = url or os.environ.get("REDIS_URL")
    return RedisStore(url) if url else SQLiteStore()



def record_event(store: Store, metric: str, key: str = TOTAL) -> None:
    """A count from the widget (the quick exit): per day only."""
    store.add({(today(), metric, key): 1})


class LazyStore(Store):
    """The store, opened on first use (so a gateway that nobody asks creates no file)."""

    def __init__(self) -> None:
        self._store: Store | None = None

    def get(self) -> Store:
        if self._store is None:
            self._store = open_store()
        return self._store

    def add(self, counts: Counts) -> None:
        self.get().add(counts)

    def read(self, days: Iterable[str]) -> Counts:
        return self.get().read(days)
