"""Load and soak through the gateway: N concurrent conversations (default 100) for a fixed time.

Starts the product itself (action server, Rasa, gateway; embedded defaults: in-memory stores, or
Redis stores with --redis URL), runs the load, stops the processes and prints errors,
throughput and latency (p50/p95/p99). Each simulated user runs a closed loop with no think time
(--think T adds some: uniform between T/2 and 3T/2 after each answer, and a first message within
the first T seconds, so users do not send in lockstep) through a realistic script of turns;
after the script it starts a new conversation. Every conversation comes from its own loopback
source address (127.x.y.z) and has at most 30 turns, so the gateway's rate limits see many users,
as in production.

`--soak 600` runs the load for 600 s instead and samples the resident memory (VmRSS) of each
process every --sample seconds (default 10), printing the memory curve and its slope.

Requests are bounded: a 30 s timeout each, --max-requests in all, and a hard deadline.

    PYTHONPATH=. python -m bench.load [--seconds 60] [--conversations 100] [--soak 600]
                                      [--redis redis://127.0.0.1:6379/11] [--markdown]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import (
    Addresses,
    load,
    percentile,
    rss_mb,
    send,
    start_ours,
    table,
    user_session,
)
from bot.launch import Stack

SCRIPT = [
    "hei",
    "jeg trenger hjelp",
    '/inform_audience{"audience":"self"}',
    "hva er et krisesenter",
    "mer",
    "kan barna bli med?",
    "er det vold når han kontrollerer mobilen min",
    "hvilke hjelpelinjer er åpne nå",  # a custom action: the action server too
    "hva lagrer du om meg",
    "takk",
    "ha det",
]


@dataclass
class Record:
    latencies: list[float] = field(default_factory=list)
    status: Counter[int | str] = field(default_factory=Counter)
    answered_at: list[float] = field(default_factory=list)  # monotonic times of 200s
    conversations: int = 0

    @property
    def sent(self) -> int:
        return sum(self.status.values())

    @property
    def errors(self) -> int:
        return self.sent - self.status[200]


async def conversation(base: str, address: str, rec: Record, deadline: float, think: float,
                       max_requests: int) -> None:
    sender = "load" + uuid.uuid4().hex[:16]
    rec.conversations += 1
    async with user_session(address) as session:
        for message in SCRIPT:
            if time.monotonic() >= deadline or rec.sent >= max_requests:
                return
            status, latency = await send(session, base, sender, message)
            rec.status[status] += 1
            if status == 200:
                rec.latencies.append(latency)
                rec.answered_at.append(time.monotonic())
            if think:
                await asyncio.sleep(random.uniform(think / 2, 3 * think / 2))


async def run_load(base: str, users: int, seconds: float, think: float, max_requests: int,
                   on_tick: object = None) -> tuple[Record, float]:
    rec = Record()
    addresses = Addresses()
    deadline = time.monotonic() + seconds

    async def user() -> None:
        await asyncio.sleep(random.uniform(0, think))  # people do not all start at once
        while time.monotonic() < deadline and rec.sent < max_requests:
            await conversation(base, addresses.next(), rec, deadline, think, max_requests)

    started = time.monotonic()
    tasks = [asyncio.create_task(user()) for _ in range(users)]
    ticker = asyncio.create_task(on_tick()) if callable(on_tick) else None  # type: ignore[misc]
    try:
        # Hard bound: the load time plus one request timeout plus slack.
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=seconds + 60)
    finally:
        if ticker:
            ticker.cancel()
    return rec, time.monotonic() - started


def windows(rec: Record, started: float, width: float, total: float) -> list[float]:
    """Answers per second in consecutive windows of `width` seconds."""
    n = max(1, int(total // width))
    counts = [0] * n
    for t in rec.answered_at:
        i = int((t - started) // width)
        if 0 <= i < n:
            counts[i] += 1
    return [c / width for c in counts]


def slope_mb_per_min(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) over the second half of the samples (after warm-up)."""
    pts = samples[len(samples) // 2 :]
    if len(pts) < 2:
        return float("nan")
    mx = sum(t for t, _ in pts) / len(pts)
    my = sum(m for _, m in pts) / len(pts)
    var = sum((t - mx) ** 2 for t, _ in pts)
    return 60 * sum((t - mx) * (m - my) for t, m in pts) / var if var else float("nan")


def report(rec: Record, elapsed: float, users: int, markdown: bool) -> str:
    lat = [x * 1000 for x in rec.latencies]
    rows = [
        ["concurrent conversations", str(users)],
        ["duration", f"{elapsed:.1f} s"],
        ["requests sent", str(rec.sent)],
        ["answered (200)", str(rec.status[200])],
        ["errors", f"{rec.errors} ({100 * rec.errors / max(1, rec.sent):.2f} %)"],
        ["error kinds", ", ".join(f"{k}: {v}" for k, v in rec.status.items() if k != 200) or "-"],
        ["conversations started", str(rec.conversations)],
        ["throughput", f"{rec.status[200] / elapsed:.1f} msg/s"],
        ["latency p50", f"{percentile(lat, 50):.0f} ms"],
        ["latency p95", f"{percentile(lat, 95):.0f} ms"],
        ["latency p99", f"{percentile(lat, 99):.0f} ms"],
        ["latency max", f"{max(lat, default=float('nan')):.0f} ms"],
    ]
    return table(["load", "value"], rows, markdown)


async def main_async(args: argparse.Namespace) -> int:
    from bot.train import model_path

    model = model_path()
    logs = Path(tempfile.mkdtemp(prefix="vonr-load-"))
    print(f"load: starting the product ({'Redis ' + args.redis if args.redis else 'in memory'}),"
          f" logs in {logs}", file=sys.stderr)
    stack: Stack = start_ours(model, logs, redis_url=args.redis, name="load")
    assert stack.gateway is not None
    seconds = args.soak or args.seconds
    procs = {name: p.pid for name, p in stack.procs.items()}
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in procs}
    t0 = time.monotonic()

    def sample() -> None:
        now = time.monotonic() - t0
        for name, pid in procs.items():
            samples[name].append((now, rss_mb(pid)))

    async def sampler() -> None:
        while True:
            sample()
            if args.soak:
                print(f"  {time.monotonic() - t0:6.0f} s  " + "  ".join(
                    f"{n} {samples[n][-1][1]:.0f} MB" for n in procs), file=sys.stderr,
                    flush=True)
            await asyncio.sleep(args.sample)

    try:
        started_at = dt.datetime.now().isoformat(timespec="seconds")
        load_before = load()
        print(f"load: {args.conversations} conversations for {seconds:.0f} s "
              f"(load average {load_before})", file=sys.stderr, flush=True)
        started = time.monotonic()
        rec, elapsed = await run_load(stack.gateway, args.conversations, seconds, args.think,
                                      args.max_requests, on_tick=sampler)
        sample()
        alive = {name: p.poll() is None for name, p in stack.procs.items()}
    finally:
        stack.stop()

    print(f"\n## bench.load ({started_at}, load average before {load_before}, after {load()}, "
          f"rasa startup {stack.startup_s:.0f} s, "
          f"stores {'Redis' if args.redis else 'in memory'})\n")
    print(report(rec, elapsed, args.conversations, args.markdown))
    width = 10.0
    rates = windows(rec, started, width, elapsed)
    print(f"\nthroughput per {width:.0f} s window (msg/s): "
          + " ".join(f"{r:.1f}" for r in rates))
    print()
    header = ["t (s)", *(f"{n} RSS MB" for n in procs)]
    n = min(len(v) for v in samples.values())
    step = max(1, n // 40) if not args.soak else 1
    rows = [[f"{samples[next(iter(procs))][i][0]:.0f}",
             *(f"{samples[name][i][1]:.0f}" for name in procs)] for i in range(0, n, step)]
    print(table(header, rows, args.markdown))
    print("\nRSS slope over the second half (MB/min): " + ", ".join(
        f"{name} {slope_mb_per_min(samples[name]):+.2f}" for name in procs))
    print("peak RSS (MB): " + ", ".join(
        f"{name} {max(m for _, m in samples[name]):.0f}" for name in procs))
    if not all(alive.values()):
        print(f"load: a process died during the run: {alive}", file=sys.stderr)
        return 1
    return 0 if rec.status[200] > 0 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--soak", type=float, default=0,
                        help="soak for this many seconds, sampling memory (e.g. 600)")
    parser.add_argument("--sample", type=float, default=10, help="memory sample interval (s)")
    parser.add_argument("--think", type=float, default=0,
                        help="mean seconds between a user's answer and next message")
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--redis", default=None, help="use Redis stores at this URL")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    if not 0 < (args.soak or args.seconds) <= 3600:
        parser.error("the run must be between 0 and 3600 s")
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
