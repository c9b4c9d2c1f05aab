"""Shared helpers for the benchmarks: processes on free ports, the stock `rasa init` bot, HTTP
turns from distinct loopback addresses, percentiles, memory and tables."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
BENCH_HOME = Path(os.environ.get("VONR_HOME", Path.home() / ".cache" / "vonr")) / "bench"
STOCK_DIR = BENCH_HOME / "stock"


def load() -> str:
    """The 1/5/15-minute load averages (the machine is shared: record them with every run)."""
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    raise TimeoutError(f"{url} not up after {timeout} s")


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


@dataclass
class Stack:
    """Running processes of one bot: `rasa` always; `actions` and `gateway` for ours."""

    name: str
    rasa: str
    gateway: str | None = None
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    startup_s: float = float("nan")
    logs: list = field(default_factory=list)

    @property
    def rasa_pid(self) -> int:
        return self.procs["rasa"].pid

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        for f in self.logs:
            f.close()


def first_answer(url: str, message: str, proc: subprocess.Popen, timeout: float) -> float:
    """Polls the REST webhook until Rasa answers; returns the monotonic time of that answer."""
    import json

    deadline = time.monotonic() + timeout
    body = json.dumps({"sender": "benchstartup0", "message": message}).encode()
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"rasa exited with {proc.returncode} before answering")
        req = urllib.request.Request(url + "/webhooks/rest/webhook", data=body,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                if resp.status == 200 and json.loads(resp.read()):
                    return time.monotonic()
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"rasa at {url} gave no answer within {timeout} s")


def start_rasa(cmd: list[str], cwd: Path, env: dict[str, str], url: str, message: str,
               log: Path) -> tuple[subprocess.Popen, float, object]:
    """Starts Rasa and returns (process, seconds from process start to its first answer, log)."""
    out = open(log, "wb")  # noqa: SIM115 - closed by Stack.stop
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        answered = first_answer(url, message, proc, timeout=300)
    except Exception:
        proc.terminate()
        proc.wait(timeout=20)
        out.close()
        raise
    return proc, answered - started, out


def start_stock(logs: Path) -> Stack:
    model = stock_model()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "rasa", "run", "--model", str(model), "--port", str(port),
           "--interface", "127.0.0.1", "--enable-api"]
    proc, startup, out = start_rasa(cmd, STOCK_DIR, rasa_base_env(), url, "hello",
                                    logs / "stock-rasa.log")
    return Stack("stock", rasa=url, procs={"rasa": proc}, startup_s=startup, logs=[out])


def start_ours(model: Path, logs: Path, redis_url: str | None = None, name: str = "vonr") -> Stack:
    """Our product as `make run` starts it (bot.run.commands), on free ports; Rasa gets
    `--enable-api` added for /model/parse. With redis_url: endpoints.redis.yml and REDIS_URL."""
    from bot.run import commands
    from bot.train import rasa_env

    ports = {"gateway": free_port(), "rasa": free_port(), "actions": free_port()}
    env = rasa_env()
    env["RASA_URL"] = f"http://127.0.0.1:{ports['rasa']}"
    env["ACTIONS_URL"] = f"http://127.0.0.1:{ports['actions']}"
    env["ACTION_ENDPOINT_URL"] = env["ACTIONS_URL"] + "/webhook"
    env["VONR_STATE_DIR"] = str(logs / f"{name}-state")
    endpoints = "endpoints.yml"
    if redis_url:
        env["REDIS_URL"] = redis_url
        endpoints = "endpoints.redis.yml"
    else:
        env.pop("REDIS_URL", None)
    cmds = commands(model, ports, endpoints)
    stack = Stack(name, rasa=env["RASA_URL"], gateway=f"http://127.0.0.1:{ports['gateway']}")
    try:
        for key in ("actions", "gateway"):
            out = open(logs / f"{name}-{key}.log", "wb")  # noqa: SIM115 - closed by Stack.stop
            stack.logs.append(out)
            stack.procs[key] = subprocess.Popen(cmds[key], cwd=ROOT, env=env, stdout=out,
                                                stderr=subprocess.STDOUT)
        wait_http(env["ACTIONS_URL"] + "/health", 60, stack.procs["actions"])
        wait_http(stack.gateway + "/healthz", 30, stack.procs["gateway"])
        proc, startup, out = start_rasa(cmds["rasa"] + ["--enable-api"], ROOT, env, stack.rasa,
                                        "hei", logs / f"{name}-rasa.log")
    except Exception:
        stack.stop()
        raise
    stack.procs["rasa"], stack.startup_s = proc, startup
    stack.logs.append(out)
    return stack


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
