"""Shared fixtures: the real trained model, and the real stack (action server, Rasa, gateway) as
separate processes on free ports (bot/launch.py), started once per test session. Every test gets
its markers here from the fixtures it uses (pyproject.toml lists them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio
import redis

from bot import content, registry
from bot.launch import Stack, start

if TYPE_CHECKING:
    from rasa.core.agent import Agent

ROOT = Path(__file__).resolve().parent.parent
# endpoints.yml names the action server through this variable; the stack sets its own.
os.environ.setdefault("ACTION_ENDPOINT_URL", "http://127.0.0.1:5055/webhook")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")


def rasa_modules_after(code: str) -> list[str]:
    """The modules of Rasa itself (not rasa_sdk) a fresh interpreter has loaded after `code`."""
    probe = (f"{code}\nimport json, sys\nprint(json.dumps(sorted(m for m in sys.modules"
             " if m == 'rasa' or m.startswith('rasa.'))))\n")
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True, text=True,
                         check=True, env={"PYTHONPATH": str(root), "PATH": ""})
    return list(json.loads(out.stdout))


def say(stack: Stack, sender: str, message: str, timeout: float = 30) -> list[dict[str, Any]]:
    """One message through the gateway's REST contract; the replies."""
    req = urllib.request.Request(
        stack.gateway + "/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": message}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        assert resp.status == 200
        return json.loads(resp.read())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Markers from the fixtures a test uses: everything that needs the trained model (the
    stacks, the in-process agent) asks for `model_path`; fixtures on a real Redis are named
    `redis_*`. Modules that start a Redis of their own are marked there; what is left is `unit`."""
    browser = ROOT / "tests" / "browser"
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if "model_path" in names:
            item.add_marker(pytest.mark.stack)
        if any(name.startswith("redis_") for name in names):
            item.add_marker(pytest.mark.redis)
        if browser in item.path.parents:
            item.add_marker(pytest.mark.browser)
        if not any(item.get_closest_marker(name) for name in ("stack", "redis", "browser")):
            item.add_marker(pytest.mark.unit)


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The model `make test` trained (or reused); trained here when pytest runs on its own."""
    if os.environ.get("VONR_MODEL"):
        return Path(os.environ["VONR_MODEL"])
    from bot.train import model_path as train

    return train()


@pytest.fixture(scope="session")
def stack(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The real product on embedded defaults (in-memory stores), as `make run` starts it; its
    anonymous flow counts go to a temporary state directory."""
    state = tmp_path_factory.mktemp("stack-state")
    s = start(model_path, tmp_path_factory.mktemp("stack-logs"),
              env={"VONR_STATE_DIR": str(state)})
    yield s
    s.stop()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def agent(model_path: Path) -> Agent:
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
def redis_client() -> Iterator[redis.Redis]:
    """The real Redis, on a database of its own that the tests empty before and after."""
    client = redis.Redis.from_url(REDIS_TEST_URL)
    client.ping()
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture(scope="session")
def redis_stack(
    model_path: Path, tmp_path_factory: pytest.TempPathFactory, redis_client: redis.Redis
) -> Iterator[Stack]:
    """The product with REDIS_URL set: trackers and locks in Redis (endpoints.redis.yml)."""
    state = tmp_path_factory.mktemp("state")
    s = start(model_path, tmp_path_factory.mktemp("redis-stack-logs"),
              env={"VONR_STATE_DIR": str(state)}, redis_url=REDIS_TEST_URL)
    yield s
    s.stop()


def response(name: str, audience: str | None = None) -> str:
    """The start of a domain response's text (the variation for `audience`), up to its first
    registry placeholder: enough to recognise the reply."""
    for variation in content.responses()[name]:
        conditions = variation.get("condition") or []
        wanted = [{"type": "slot", "name": "audience", "value": audience}] if audience else []
        if conditions == wanted:
            return registry.load().render(variation["text"].split("[[")[0]).strip()[:60]
    raise KeyError(f"{name} has no variation for audience={audience}")
