"""Sliding-window rate limits in memory, keyed without keeping addresses: a client key is a keyed
hash of the address under a random per-process key, so not even a hash survives a restart."""

from __future__ import annotations

import time
from collections import defaultdict, deque

from bot.pseudonym import Pseudonymizer


class RateLimiter:
    """Sliding-window counts per key, in memory only. Client keys are keyed hashes of the address
    under a random per-process key, so no address is kept, not even hashed across restarts."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self.hits: dict[str, deque[float]] = defaultdict(deque)
        self.pseudonyms = Pseudonymizer(length=16)
        self.next_sweep = 0.0

    def client_key(self, address: str) -> str:
        return self.pseudonyms.of(address)

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        q = self.hits[key]
        while q and q[0] <= now - self.window:
            q.popleft()
        if len(q) >= self.limit:
            return False
        q.append(now)
        if now >= self.next_sweep:  # once a window: forget keys with no hit inside it
            self.next_sweep = now + self.window
            for k in [k for k, v in self.hits.items() if not v or v[-1] <= now - self.window]:
                del self.hits[k]
        return True
