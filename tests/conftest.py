"""Shared fixtures: the real trained model, and the real stack (action server, Rasa, gateway) as
separate processes on free ports, started once per test session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import yaml

from bench.common import free_port, wait_http
from bot import registry

ROOT = Path(__file__).resolve().parent.parent
# endpoints.yml names the action server through this variable; the stack sets its own.
os.environ.setdefault("ACTION_ENDPOINT_URL", "http://127.0.0.1:5055/webhook")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")


def say(stack: Any, sender: str, message: str, timeout: float = 30) -> list[dict[str, Any]]:
    """One message through the gateway's REST contract; the replies."""
    req = urllib.request.Request(
        stack.gateway + "/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": message}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        assert resp.status == 200
        return json.loads(resp.read())


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The model `make test` trained (or reused); trained here when pytest runs on its own."""
    if os.environ.get("VONR_MODEL"):
        return Path(os.environ["VONR_MODEL"])
    from bot.train import model_path as train

    return train()


@dataclass
class Stack:
    gateway: str
    rasa: str
    actions: str
    env: dict[str, str]
    logs: Path
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def stop(self, name: str) -> None:
        proc = self.procs[name]
        proc.terminate()
        proc.wait(timeout=20)


def start_stack(model: Path, logs: Path, extra_env: dict[str, str] | None = None,
                endpoints: str = "endpoints.yml") -> Stack:
    from bot.run import commands
    from bot.train import rasa_env

    ports = {"gateway": free_port(), "rasa": free_port(), "actions": free_port()}
    env = rasa_env()
    env.update(extra_env or {})
    env["RASA_URL"] = f"http://127.0.0.1:{ports['rasa']}"
    env["ACTIONS_URL"] = f"http://127.0.0.1:{ports['actions']}"
    env["ACTION_ENDPOINT_URL"] = f"http://127.0.0.1:{ports['actions']}/webhook"
    logs.mkdir(parents=True, exist_ok=True)
    stack = Stack(
        gateway=f"http://127.0.0.1:{ports['gateway']}", rasa=env["RASA_URL"],
        actions=env["ACTIONS_URL"], env=env, logs=logs,
    )
    cmds = commands(model, ports, endpoints)
    for name, cmd in cmds.items():
        out = open(logs / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        stack.procs[name] = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out,
                                             stderr=subprocess.STDOUT)
    try:
        wait_http(stack.actions + "/health", 60, stack.procs["actions"])
        wait_http(stack.gateway + "/healthz", 30, stack.procs["gateway"])
        wait_http(stack.rasa + "/", 180, stack.procs["rasa"])
    except Exception:
        stop_stack(stack)
        raise
    return stack


def stop_stack(stack: Stack) -> None:
    for proc in stack.procs.values():
        if proc.poll() is None:
            proc.terminate()
    for proc in stack.procs.values():
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def stack(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The real product on embedded defaults (in-memory stores), as `make run` starts it; its
    anonymous flow counts go to a temporary state directory."""
    state = tmp_path_factory.mktemp("stack-state")
    s = start_stack(model_path, tmp_path_factory.mktemp("stack-logs"),
                    extra_env={"VONR_STATE_DIR": str(state)})
    yield s
    stop_stack(s)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def agent(model_path: Path):  # type: ignore[no-untyped-def]
    """The trained model loaded in-process with our NLG, for fast NLU and dialogue checks.
    No action server: custom actions are tested through the stack."""
    from rasa.core.agent import load_agent
    from rasa.core.utils import AvailableEndpoints

    endpoints = AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.yml"))
    endpoints.action = None
    return await load_agent(model_path=str(model_path), endpoints=endpoints)


sys.path.insert(0, str(ROOT))


REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/3")


@pytest.fixture(scope="session")
def redis_client():  # type: ignore[no-untyped-def]
    """The real Redis, on a database of its own that the tests empty before and after."""
    import redis

    client = redis.Redis.from_url(REDIS_TEST_URL)
    client.ping()
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture(scope="session")
def redis_stack(
    model_path: Path, tmp_path_factory: pytest.TempPathFactory, redis_client: Any
) -> Iterator[Stack]:
    """The product with REDIS_URL set: trackers and locks in Redis (endpoints.redis.yml)."""
    state = tmp_path_factory.mktemp("state")
    s = start_stack(
        model_path, tmp_path_factory.mktemp("redis-stack-logs"),
        extra_env={"REDIS_URL": REDIS_TEST_URL, "VONR_STATE_DIR": str(state)},
        endpoints="endpoints.redis.yml",
    )
    s.env["VONR_STATE_DIR"] = str(state)
    yield s
    stop_stack(s)


def response(name: str, audience: str | None = None) -> str:
    """The start of a domain response's text (the variation for `audience`), up to its first
    registry placeholder: enough to recognise the reply."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    for variation in domain["responses"][name]:
        conditions = variation.get("condition") or []
        wanted = [{"type": "slot", "name": "audience", "value": audience}] if audience else []
        if conditions == wanted:
            return registry.load().render(variation["text"].split("[[")[0]).strip()[:60]
    raise KeyError(f"{name} has no variation for audience={audience}")
