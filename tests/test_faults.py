"""Faults against the real processes: Redis stops mid-conversation and comes back, the action
server goes down. The bot keeps answering with the helpline numbers; /readyz says what is wrong."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from bot import registry
from bot.launch import Stack, free_port, start
from tests.conftest import ROOT, response

pytestmark = pytest.mark.redis  # a redis-server of its own

REG = registry.load()


def post(stack: Stack, sender: str, message: str) -> tuple[int, list[dict[str, Any]]]:
    req = urllib.request.Request(
        stack.gateway + "/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": message}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def ready(stack: Stack) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(stack.gateway + "/readyz", timeout=10) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return json.loads(err.read())


class PrivateRedis:
    """A redis-server of our own on a free port, so the test may stop it."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind",
             "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        for _ in range(50):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def fault_stack(model_path: Path, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[tuple[Stack, PrivateRedis]]:
    server = PrivateRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    stack = start(model_path, tmp_path_factory.mktemp("fault-logs"), redis_url=server.url,
                  env={"VONR_STATE_DIR": str(tmp_path_factory.mktemp("fault-state"))})
    yield stack, server
    stack.stop()
    server.stop()


def test_redis_outage_degrades_and_recovers(fault_stack: tuple[Stack, PrivateRedis]) -> None:
    stack, server = fault_stack
    sender = uuid.uuid4().hex
    assert post(stack, sender, "hei")[0] == 200
    assert ready(stack)["checks"]["redis"] is True
    before = {p for p in ROOT.rglob("*") if p.is_file() and ".git" not in p.parts}

    server.stop()
    status, replies = post(stack, sender, "hva er et krisesenter")
    assert status == 200 and "krisesenter" in replies[0]["text"].lower()
    status, replies = post(stack, uuid.uuid4().hex, "han slår meg nå")
    assert status == 200 and replies[0]["text"].startswith("Ring " + REG["police_emergency"].phone)
    # A conversation that begins during the outage keeps its state on this instance: "mer"
    # continues the topic it asked about (Rasa's own fallback started every turn afresh).
    during = uuid.uuid4().hex
    assert post(stack, during, "hva er et krisesenter")[0] == 200
    status, replies = post(stack, during, "mer")
    assert status == 200 and replies[0]["text"].startswith(response("utter_more_krisesenter"))
    state = ready(stack)
    assert state["ready"] is False and state["checks"]["redis"] is False
    # Nothing was written to disk to make up for the missing Redis.
    after = {p for p in ROOT.rglob("*") if p.is_file() and ".git" not in p.parts}
    assert {p for p in after - before if "__pycache__" not in p.parts} == set()

    server.start()
    fresh = uuid.uuid4().hex
    assert post(stack, fresh, "hei")[0] == 200
    client = redis.Redis.from_url(server.url)
    resumed = any(fresh in k.decode() for k in client.keys("*"))
    assert resumed, "conversations did not resume on Redis"
    assert ready(stack)["ready"] is True


def test_action_server_down_still_gives_the_helplines(
    fault_stack: tuple[Stack, PrivateRedis],
) -> None:
    stack, _ = fault_stack
    stack.stop("actions")
    status, replies = post(stack, uuid.uuid4().hex, "hvilke hjelpelinjer er åpne nå")
    assert status == 200
    text = " ".join(r["text"] for r in replies)
    assert REG["vo_linjen"].phone_display in text and "Traceback" not in text
    status, replies = post(stack, uuid.uuid4().hex, "han står utenfor døra med kniv")
    assert status == 200 and replies[0]["text"].startswith("Ring " + REG["police_emergency"].phone)
    assert ready(stack)["checks"]["actions"] is False
