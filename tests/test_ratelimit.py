"""bot/ratelimit.py: the sliding window, idle keys do not pile up; bot/pseudonym.py."""

from __future__ import annotations

import pytest

from bot import ratelimit
from bot.pseudonym import Pseudonymizer
from bot.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(ratelimit.time, "monotonic", c)
    return c


def test_limit_within_the_window_and_again_after_it(clock: Clock) -> None:
    limiter = RateLimiter(limit=3, window=60)
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b")  # keys are counted apart
    clock.now += 61
    assert limiter.allow("a")


def test_idle_keys_are_forgotten_once_their_window_has_passed(clock: Clock) -> None:
    limiter = RateLimiter(limit=30, window=60)
    for i in range(1000):
        limiter.allow(f"conversation{i}")
    assert len(limiter.hits) == 1000
    clock.now += 61
    limiter.allow("new")
    assert set(limiter.hits) == {"new"}


def test_pseudonyms_are_stable_within_a_process_and_unlinkable_across() -> None:
    one, two = Pseudonymizer(), Pseudonymizer(length=16)
    address = "203.0.113.7"
    assert one.of(address) == one.of(address) != one.of("203.0.113.8")
    assert len(one.of(address)) == 64 and len(two.of(address)) == 16
    assert address not in one.of(address)
    # A new key (a restart, another store) cannot match the old pseudonym.
    assert two.of(address) != one.of(address)[:16]
    assert RateLimiter(1, 1).client_key(address) != RateLimiter(1, 1).client_key(address)
