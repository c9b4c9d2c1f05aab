"""The one launcher of the product's processes (action server, Rasa, gateway): their command
lines, environment, ports, start-up order and stopping, for `make run` (bot/run.py), the tests
(tests/conftest.py) and the benchmarks (bench/common.py)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from bot.train import ROOT, rasa_env

# Seconds each process may take to answer its health check; Rasa loads the model first and is
# slow on a busy machine.
STARTUP_TIMEOUT = {"actions": 60.0, "gateway": 30.0, "rasa": 300.0}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    """Returns once `url` answers 200; raises if `proc` exits or `timeout` seconds pass first."""
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


def first_answer(url: str, message: str, proc: subprocess.Popen, timeout: float) -> float:
    """Polls Rasa's REST webhook until it answers `message`; the monotonic time of that answer."""
    deadline = time.monotonic() + timeout
    body = json.dumps({"sender": "startup0", "message": message}).encode()
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


def commands(model: Path, ports: Mapping[str, int], endpoints: str) -> dict[str, list[str]]:
    py = sys.executable
    return {
        "actions": [py, "-m", "bot.actions_server", "--actions", "actions",
                    "--port", str(ports["actions"])],
        "rasa": [py, "-m", "bot.rasa_server", "run", "--model", str(model),
                 "--port", str(ports["rasa"]),
                 "--interface", "127.0.0.1", "--endpoints", endpoints,
                 "--credentials", "credentials.yml"],
        "gateway": [py, "-m", "bot.gateway", "--port", str(ports["gateway"])],
    }


@dataclass
class Stack:
    """The running processes of one bot by name, and their URLs. `gateway` and `actions` are
    None for a bare Rasa (the benchmarks' stock bot)."""

    rasa: str
    gateway: str | None = None
    actions: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    logs: Path | None = None  # <name>.log per process; None: they write to the terminal
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    startup_s: float = float("nan")  # Rasa's process start to first answer, when timed
    own_sessions: bool = False  # each process leads its own process group (make run)
    files: list[IO[bytes]] = field(default_factory=list)

    def spawn(self, name: str, cmd: Sequence[str], cwd: Path = ROOT) -> subprocess.Popen:
        out: IO[bytes] | None = None
        if self.logs is not None:
            self.logs.mkdir(parents=True, exist_ok=True)
            out = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 - closed by stop()
            self.files.append(out)
        proc = subprocess.Popen(cmd, cwd=cwd, env=self.env, stdout=out,
                                stderr=subprocess.STDOUT if out else None,
                                start_new_session=self.own_sessions)
        self.procs[name] = proc
        return proc

    def _signal(self, proc: subprocess.Popen, sig: signal.Signals) -> None:
        if self.own_sessions:
            os.killpg(proc.pid, sig)  # Rasa's and the action server's own children too
        else:
            proc.send_signal(sig)

    def stop(self, name: str | None = None, timeout: float = 20) -> None:
        """Stops one process, or all of them: SIGTERM, then SIGKILL after `timeout` seconds."""
        procs = [self.procs[name]] if name else list(self.procs.values())
        for proc in procs:
            if proc.poll() is None:
                self._signal(proc, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._signal(proc, signal.SIGKILL)
                proc.wait(timeout=5)
        if name is None:
            for f in self.files:
                f.close()


def start(model: Path, logs: Path | None = None, *, ports: Mapping[str, int] | None = None,
          env: Mapping[str, str] | None = None, redis_url: str | None = None,
          rasa_args: Sequence[str] = (), wait: bool = True, time_rasa: bool = False,
          own_sessions: bool = False) -> Stack:
    """Starts the action server, Rasa and the gateway on `ports` (free ones by default), with
    the environment `make run` uses plus `env`. With `redis_url`, trackers, locks and flow counts
    live in Redis (endpoints.redis.yml); without, trackers and locks in memory and flow counts in
    $VONR_STATE_DIR, whatever REDIS_URL the caller has. `wait`: return once all three answer.
    `time_rasa`: start Rasa alone after the other two answer and record its start-up until the
    first answer in `startup_s` (benchmarks)."""
    ports = dict(ports or {"actions": free_port(), "rasa": free_port(), "gateway": free_port()})
    full = rasa_env()
    full.update(RASA_URL=f"http://127.0.0.1:{ports['rasa']}",
                ACTIONS_URL=f"http://127.0.0.1:{ports['actions']}",
                ACTION_ENDPOINT_URL=f"http://127.0.0.1:{ports['actions']}/webhook")
    full.pop("REDIS_URL", None)
    if redis_url:
        full["REDIS_URL"] = redis_url
    full.update(env or {})
    gateway = f"http://127.0.0.1:{ports['gateway']}"
    stack = Stack(rasa=full["RASA_URL"], gateway=gateway, actions=full["ACTIONS_URL"], env=full,
                  logs=logs, own_sessions=own_sessions)
    cmds = commands(model, ports, "endpoints.redis.yml" if redis_url else "endpoints.yml")
    cmds["rasa"] += rasa_args
    try:
        for name in ("actions", "gateway") if time_rasa else ("actions", "gateway", "rasa"):
            stack.spawn(name, cmds[name])
        if wait or time_rasa:
            wait_http(full["ACTIONS_URL"] + "/health", STARTUP_TIMEOUT["actions"],
                      stack.procs["actions"])
            wait_http(gateway + "/healthz", STARTUP_TIMEOUT["gateway"], stack.procs["gateway"])
        if time_rasa:
            started = time.monotonic()
            rasa = stack.spawn("rasa", cmds["rasa"])
            answered = first_answer(stack.rasa, "hei", rasa, STARTUP_TIMEOUT["rasa"])
            stack.startup_s = answered - started
        elif wait:
            wait_http(stack.rasa + "/", STARTUP_TIMEOUT["rasa"], stack.procs["rasa"])
    except BaseException:
        stack.stop()
        raise
    return stack


def start_gateway(env: Mapping[str, str], logs: Path | None = None) -> Stack:
    """The gateway alone on a free loopback port, in front of whatever RASA_URL and ACTIONS_URL
    in `env` name (a running stack, or a closed port); no Redis and no embedding origins unless
    `env` sets them. For the tests of the edge."""
    port = free_port()
    full = dict(os.environ, PYTHONPATH=str(ROOT))
    for name in ("REDIS_URL", "ALLOWED_ORIGINS"):
        full.pop(name, None)
    full.update(env)
    gateway = f"http://127.0.0.1:{port}"
    stack = Stack(rasa=full["RASA_URL"], gateway=gateway, actions=full.get("ACTIONS_URL"),
                  env=full, logs=logs)
    proc = stack.spawn("gateway", [sys.executable, "-m", "bot.gateway", "--port", str(port),
                                   "--host", "127.0.0.1"])
    try:
        wait_http(gateway + "/healthz", STARTUP_TIMEOUT["gateway"], proc)
    except BaseException:
        stack.stop()
        raise
    return stack
