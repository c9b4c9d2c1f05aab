"""Shared helpers for the benchmarks: our stack and the stock `rasa init` bot (started through
bot/launch.py), HTTP turns from distinct loopback addresses, percentiles, memory and tables."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import aiohttp

from bot import launch
from bot.launch import STARTUP_TIMEOUT, Stack, first_answer, free_port

ROOT = Path(__file__).resolve().parent.parent
BENCH_HOME = Path(os.environ.get("VONR_HOME", Path.home() / ".cache" / "vonr")) / "bench"
STOCK_DIR = BENCH_HOME / "stock"


def quiet_rasa() -> None:
    """Rasa's per-message debug lines off: an in-process agent logs every parse to stdout
    through structlog, which buries the benchmark's own output."""
    import logging

    from rasa.utils.log_utils import configure_structlog

    logging.basicConfig(level=logging.WARNING)
    configure_structlog(logging.WARNING)


def load() -> str:
    """The 1/5/15-minute load averages (the machine is shared: record them with every run)."""
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 100))))
    return ordered[rank - 1]


def rss_mb(pid: int, key: str = "VmRSS") -> float:
    """Resident memory of a process in MB from /proc/<pid>/status (VmRSS, or VmHWM: the peak)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


class Addresses:
    """Distinct loopback source addresses (127.a.b.c), one per simulated conversation, so the
    gateway's per-client rate limit (keyed on the peer address) sees many users, as in production,
    instead of one benchmark client."""

    def __init__(self) -> None:
        self.n = 0

    def next(self) -> str:
        while True:
            self.n += 1
            a, b, c = (self.n >> 16) & 0xFF, (self.n >> 8) & 0xFF, self.n & 0xFF
            if 0 < c < 255 and b < 255:
                return f"127.{a + 1}.{b}.{c}"


def user_session(address: str) -> aiohttp.ClientSession:
    """The client of one simulated conversation: its own source address, one connection, 30 s
    per request."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(local_addr=(address, 0), limit=1),
        timeout=aiohttp.ClientTimeout(total=30),
    )


async def send(session: aiohttp.ClientSession, base: str, sender: str, message: str
               ) -> tuple[int | str, float]:
    """One message to the REST webhook: (status, seconds). The status is the HTTP status,
    "empty" for a 200 without an answer, "timeout", or the name of the client error."""
    started = time.perf_counter()
    try:
        async with session.post(base + "/webhooks/rest/webhook",
                                json={"sender": sender, "message": message}) as resp:
            body = await resp.json(content_type=None)
            status: int | str = resp.status
    except asyncio.TimeoutError:
        status, body = "timeout", None
    except (aiohttp.ClientError, ValueError) as exc:
        status, body = type(exc).__name__, None
    if status == 200 and not body:
        status = "empty"
    return status, time.perf_counter() - started


def rasa_base_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(RASA_TELEMETRY_ENABLED="false", PYTHONUNBUFFERED="1", TF_CPP_MIN_LOG_LEVEL="3")
    return env


def stock_model(train: bool = True) -> Path:
    """The stock bot (`rasa init --no-prompt`, Rasa's default config), created and trained once
    in ~/.cache/vonr/bench/stock and reused after."""
    models = sorted((STOCK_DIR / "models").glob("*.tar.gz"))
    if models:
        return models[-1]
    if not train:
        raise FileNotFoundError(STOCK_DIR / "models")
    STOCK_DIR.mkdir(parents=True, exist_ok=True)
    print(f"bench: creating the stock bot in {STOCK_DIR} (rasa init, once)", file=sys.stderr)
    env = rasa_base_env()
    env["RASA_CACHE_DIRECTORY"] = str(STOCK_DIR / ".rasa" / "cache")
    subprocess.run([sys.executable, "-m", "rasa", "init", "--no-prompt", "--init-dir",
                    str(STOCK_DIR)], cwd=STOCK_DIR, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return sorted((STOCK_DIR / "models").glob("*.tar.gz"))[-1]


def start_stock(logs: Path) -> Stack:
    """The stock bot's `rasa run`, timed from its process start to its first answer."""
    model = stock_model()
    port = free_port()
    stack = Stack(rasa=f"http://127.0.0.1:{port}", env=rasa_base_env(), logs=logs / "stock")
    started = time.monotonic()
    proc = stack.spawn("rasa", [sys.executable, "-m", "rasa", "run", "--model", str(model),
                                "--port", str(port), "--interface", "127.0.0.1", "--enable-api"],
                       cwd=STOCK_DIR)
    try:
        stack.startup_s = first_answer(stack.rasa, "hello", proc, STARTUP_TIMEOUT["rasa"]) - started
    except BaseException:
        stack.stop()
        raise
    return stack


def start_ours(model: Path, logs: Path, redis_url: str | None = None, name: str = "vonr") -> Stack:
    """Our product as `make run` starts it (bot/launch.py), on free ports, its Rasa started last
    and timed to its first answer; Rasa gets `--enable-api` added for /model/parse. With
    redis_url: endpoints.redis.yml and REDIS_URL."""
    return launch.start(model, logs / name, redis_url=redis_url, rasa_args=["--enable-api"],
                        env={"VONR_STATE_DIR": str(logs / f"{name}-state")}, time_rasa=True)


def table(header: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool = False) -> str:
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    out = [fmt.format(*header), "  ".join("-" * w for w in widths)]
    out += [fmt.format(*r) for r in rows]
    return "\n".join(out)
