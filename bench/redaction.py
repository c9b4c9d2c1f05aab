"""Benchmark bot.redact on 500-character messages: mean and p95 time per message.

Run from the repository root: ``python bench/redaction.py``.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.redact import redact  # noqa: E402

PLAIN = [
    "Jeg vet ikke helt hvordan jeg skal si dette, men det har vært vanskelig hjemme lenge.",
    "Han blir sint når jeg snakker med venninnene mine, og han sjekker telefonen min hver kveld.",
    "Vi har 2 barn sammen, de er 6 og 9 år, og jeg er redd for hva de ser og hører.",
    "I går ringte jeg 116 006, men jeg turte ikke si noe, så jeg la på igjen etter litt.",
    "Det startet i 2019 og har blitt verre, han tok 5000 kr fra kontoen min forrige uke.",
    "Kan jeg få hjelp uten at han får vite det? Jeg har lest litt på dinutvei.no om krisesenter.",
]
WITH_IDS = [
    "Hei, jeg heter Kari Nordmann og bor i Storgata 12, 0155 Oslo sammen med mannen min Ola.",
    "Nummeret mitt er 987 65 432, men ikke ring etter klokka 20, da er han hjemme.",
    "Fødselsnummeret mitt er 15038512363 og kontoen er 1234.56.78903, han har tilgang til alt.",
    "Han brukte kortet mitt 4546 4230 1234 5671 og skrev til meg fra ola.n@gmail.com i natt.",
    "Eksen min Jonas la ut bilder på www.instagram.com/jonas_h og ringer fra +47 41234567.",
]
N = 2000


def message(rng: random.Random, pool: list[str], size: int = 500) -> str:
    parts: list[str] = []
    while sum(len(p) + 1 for p in parts) < size:
        parts.append(rng.choice(pool))
    return " ".join(parts)[:size]


def run(label: str, messages: list[str]) -> tuple[str, float, float]:
    for text in messages[:50]:
        redact(text)
    times: list[float] = []
    for text in messages:
        start = time.perf_counter()
        redact(text)
        times.append(time.perf_counter() - start)
    times.sort()
    return label, statistics.fmean(times) * 1e3, times[int(len(times) * 0.95)] * 1e3


def main() -> None:
    rng = random.Random(7)
    plain = [message(rng, PLAIN) for _ in range(N)]
    mixed = [message(rng, PLAIN + WITH_IDS * 2) for _ in range(N)]
    rows = [run("no identifiers", plain), run("with identifiers", mixed)]
    print(f"redact() on {N} messages of 500 characters")
    print(f"{'messages':<18} {'mean ms':>8} {'p95 ms':>8}")
    for label, mean, p95 in rows:
        print(f"{label:<18} {mean:8.3f} {p95:8.3f}")


if __name__ == "__main__":
    main()
