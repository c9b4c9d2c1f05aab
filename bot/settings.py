"""Settings from the environment that more than one part reads, parsed in one place. No Rasa: the
gateway (through the flow counts) reads them too.

`CONVERSATION_EXPIRY_MINUTES` (default 30) is how long a conversation lives after its last
message: the tracker stores forget it then (`bot/stores.py`) and the flow counts fold it then
(`bot/flows/`), so both read `expiry_seconds()`.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

DEFAULT_EXPIRY_MINUTES = 30.0


def positive_float(value: float | str | None, default: float, name: str = "") -> float:
    """`value` as a positive number; unset (None, "", 0) gives `default`, and so does a value
    that is not a positive number, with a warning."""
    if value is None or value == "" or value == 0:
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = 0.0
    if number > 0:
        return number
    log.warning("%s=%r is not a positive number: using %s", name or "setting", value, default)
    return default


def env_float(name: str, default: float) -> float:
    """Environment variable `name` as a positive number, else `default`."""
    return positive_float(os.environ.get(name), default, name)


def expiry_seconds(minutes: float | str | None = None) -> float:
    """How long a conversation is kept after its last message, in seconds: `minutes` when given
    (a store's `expiry_minutes` in endpoints.yml), else CONVERSATION_EXPIRY_MINUTES, else 30
    minutes. Fractions stay (tests use a fraction of a second); the Redis store, which keeps whole
    seconds, rounds where it hands the expiry to Redis (bot/stores.py)."""
    default = env_float("CONVERSATION_EXPIRY_MINUTES", DEFAULT_EXPIRY_MINUTES)
    return positive_float(minutes, default, "expiry_minutes") * 60
