"""Pseudonyms for identifiers we must tell apart but never keep (client addresses, sender ids):
a keyed hash under a random key that lives only in this process, so no pseudonym can be traced
back or matched after a restart."""

from __future__ import annotations

import hashlib
import hmac
import secrets


class Pseudonymizer:
    """`of(value)` is stable within one instance and meaningless outside it."""

    def __init__(self, length: int = 64) -> None:
        self._key = secrets.token_bytes(32)
        self.length = length  # hex characters kept

    def of(self, value: str) -> str:
        return hmac.new(self._key, value.encode("utf-8"), hashlib.sha256).hexdigest()[: self.length]
