"""Speed and scale of vonr-bot, side by side with stock Rasa 3.6.21 on its `rasa init` bot.

Starts the stacks itself on free loopback ports (ours as `make run` starts it: action server, Rasa,
gateway; ours again with Redis stores; stock Rasa on the bot `rasa init --no-prompt` creates,
trained once in ~/.cache/vonr/bench/stock), measures, stops them and prints one table:

  turn latency  p50/p95 for one user at turn 1 and turn 30 of a conversation (sequential)
  throughput    msg/s and p95 with 20 and 50 concurrent conversations (closed loop, no think
                time), through our gateway and directly to Rasa's REST webhook, alternating the
                two in rounds so background load hits both alike; gateway overhead as a ratio
  NLU parse     POST /model/parse alone (Rasa started with --enable-api)
  start-up      Rasa process start to its first answer; resident memory (VmRSS, peak VmHWM)
  training      `rasa train --force` into a temp dir, both bots (only with --train: minutes)

`--profile` instead times the steps of a turn in-process (MessageProcessor steps and every graph
node) with our model, in memory and with Redis, and prints cProfile's top functions.

Every conversation uses its own loopback source address (127.x.y.z) and at most 30 turns, so the
gateway's rate limits (30 messages/min per conversation, 120/min per client address) see many users,
as in production, not one benchmark client. Requests are bounded by count and time.

    PYTHONPATH=. python -m bench.speed [--quick] [--markdown] [--train] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import (
    ROOT,
    STOCK_DIR,
    Addresses,
    load,
    percentile,
    rasa_base_env,
    rss_mb,
    send,
    start_ours,
    start_stock,
    stock_model,
    table,
    user_session,
)
from bot.launch import Stack, commands, free_port, wait_http

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
TURNS = 30

# A realistic conversation: someone unsure whether what they live with is violence, then asking
# about help, safety and rights. Phone-style Bokmål, some without æøå.
SCRIPT_NB = [
    "hei",
    "jeg vet ikke om det jeg opplever er vold",
    "han kaller meg dum og verdiløs nesten hver dag",
    "ja",
    "han sjekker telefonen min hele tiden og vil vite hvor jeg er",
    "hva er vo-linjen for noe",
    "må jeg si navnet mitt hvis jeg ringer",
    "er chatten åpen nå",
    "hva er egentlig et krisesenter",
    "kan jeg ta med barna mine dit",
    "barna hører når vi krangler",
    "mer",
    "hvordan lager jeg en sikkerhetsplan",
    "hva bør jeg ta med hvis jeg må dra fort",
    "vi deler ipad, kan han se hva jeg søker på",
    "nei",
    "hvordan får jeg besøksforbud",
    "kan jeg få en alarm å trykke på hvis han kommer",
    "hvordan anmelder jeg mannen min",
    "bør jeg gå til legen selv om jeg ikke vil anmelde",
    "hvordan far jeg bistandsadvokat",
    "kan staten betale meg noe etter vold",
    "jeg får ikke bestemme over mine egne penger",
    "hva lagrer denne chatten",
    "er du en robot",
    "jeg vil heller snakke med et menneske",
    "hvor ligger nærmeste krisesenter",
    "kan jeg få hjelp fra krisesenteret uten å bo der",
    "takk det hjalp",
    "ha det",
]
# The stock bot's own kind of messages (its intents: greet, mood, affirm/deny, bot challenge, bye).
SCRIPT_STOCK = [
    "hello", "I am sad", "yes", "I am feeling great", "are you a bot?", "no", "good morning",
    "I am unhappy", "not really", "perfect", "hey there", "I am very sad", "indeed", "great",
    "am I talking to a human?", "never", "hi", "I am disappointed", "of course", "so so perfect",
    "good evening", "sad", "that sounds good", "amazing", "are you a human?", "I don't think so",
    "moin", "I am extremely sad", "correct", "bye",
]
assert len(SCRIPT_NB) == TURNS and len(SCRIPT_STOCK) == TURNS


@dataclass
class Turns:
    latencies: list[float] = field(default_factory=list)  # seconds, successful turns only
    by_turn: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    status: Counter = field(default_factory=Counter)
    elapsed: float = 0.0

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def errors(self) -> int:
        return sum(n for s, n in self.status.items() if s != 200)

    @property
    def rate(self) -> float:
        return self.ok / self.elapsed if self.elapsed else float("nan")

    def add(self, other: Turns) -> None:
        self.latencies += other.latencies
        for k, v in other.by_turn.items():
            self.by_turn[k] += v
        self.status.update(other.status)
        self.elapsed += other.elapsed


async def conversation(base: str, script: list[str], address: str, record: Turns,
                       deadline: float | None = None) -> None:
    """One conversation of len(script) turns from its own source address; stops at deadline."""
    sender = "bench" + uuid.uuid4().hex[:16]
    async with user_session(address) as session:
        for turn, message in enumerate(script, 1):
            if deadline is not None and time.monotonic() >= deadline:
                return
            status, latency = await send(session, base, sender, message)
            record.status[status] += 1
            if status == 200:
                record.latencies.append(latency)
                record.by_turn[turn].append(latency)


async def single_user(base: str, script: list[str], conversations: int,
                      addresses: Addresses) -> Turns:
    record = Turns()
    await conversation(base, script[:3], addresses.next(), Turns())  # warm-up, not counted
    started = time.monotonic()
    for _ in range(conversations):
        await conversation(base, script, addresses.next(), record)
    record.elapsed = time.monotonic() - started
    return record


async def concurrent(base: str, script: list[str], users: int, seconds: float,
                     addresses: Addresses, max_requests: int = 100_000) -> Turns:
    """`users` conversations at once, each starting a new conversation after 30 turns, until
    `seconds` pass (or max_requests were sent)."""
    record = Turns()
    deadline = time.monotonic() + seconds

    async def user() -> None:
        while time.monotonic() < deadline and sum(record.status.values()) < max_requests:
            await conversation(base, script, addresses.next(), record, deadline)

    started = time.monotonic()
    await asyncio.gather(*(user() for _ in range(users)))
    record.elapsed = time.monotonic() - started
    return record


async def alternate(bases: dict[str, str], script: list[str], users: int, seconds: float,
                    rounds: int, addresses: Addresses) -> dict[str, Turns]:
    """Runs each target for seconds/rounds at a time, alternating, so drifting background load
    on this shared machine hits every target alike."""
    out = {name: Turns() for name in bases}
    await concurrent(next(iter(bases.values())), script, users, 2, addresses)  # warm-up
    for _ in range(rounds):
        for name, base in bases.items():
            out[name].add(await concurrent(base, script, users, seconds / rounds, addresses))
    return out


async def parse_times(base: str, texts: list[str], n: int) -> list[float]:
    times: list[float] = []
    async with aiohttp.ClientSession() as session:
        for i in range(n + 5):
            started = time.perf_counter()
            async with session.post(base + "/model/parse", json={"text": texts[i % len(texts)]}
                                    ) as resp:
                await resp.read()
                resp.raise_for_status()
            if i >= 5:  # the first few warm up
                times.append(time.perf_counter() - started)
    return times


def ms(seconds: float) -> str:
    return "-" if seconds != seconds else f"{seconds * 1000:.0f}"


def pair(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{ms(percentile(values, 50))} / {ms(percentile(values, 95))}"


def throughput(t: Turns | None) -> str:
    if t is None:
        return "-"
    err = f", {t.errors} err" if t.errors else ""
    return f"{t.rate:.1f} msg/s, p95 {ms(percentile(t.latencies, 95))}{err}"


@dataclass
class Result:
    """What one bot measured; keys are the row names."""

    cells: dict[str, str] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


async def measure(stack: Stack, script: list[str], args: argparse.Namespace,
                  addresses: Addresses) -> Result:
    res = Result()
    res.cells["start-up (s)"] = f"{stack.startup_s:.1f}"
    rasa_pid = stack.procs["rasa"].pid
    res.cells["RSS after start (MB)"] = f"{rss_mb(rasa_pid):.0f}"
    loads = [load()]
    # One user, sequential, turn 1 and turn 30; through the gateway when there is one.
    front = stack.gateway or stack.rasa
    one = await single_user(front, script, args.conversations, addresses)
    res.raw["one"] = one
    res.cells["1 user, turn 1 p50/p95 (ms)"] = pair(one.by_turn[1])
    res.cells["1 user, turn 30 p50/p95 (ms)"] = pair(one.by_turn[TURNS])
    res.cells["1 user, all turns mean (ms)"] = ms(statistics.fmean(one.latencies))
    if stack.gateway and not args.skip_direct:
        direct = await single_user(stack.rasa, script, args.conversations, addresses)
        res.raw["one_direct"] = direct
        res.cells["1 user, turn 30 direct p50/p95 (ms)"] = pair(direct.by_turn[TURNS])
        res.cells["1 user, all turns mean direct (ms)"] = ms(statistics.fmean(direct.latencies))
    loads.append(load())
    for users in args.users:
        bases = {"rasa": stack.rasa}
        if stack.gateway:
            bases = {"gateway": stack.gateway} if args.skip_direct else {
                "rasa": stack.rasa, "gateway": stack.gateway}
        runs = await alternate(bases, script, users, args.seconds, args.rounds, addresses)
        res.raw[f"c{users}"] = runs
        res.cells[f"{users} conv, Rasa REST"] = throughput(runs.get("rasa"))
        res.cells[f"{users} conv, gateway"] = throughput(runs.get("gateway"))
        if "rasa" in runs and "gateway" in runs:
            r, g = runs["rasa"], runs["gateway"]
            loss = 1 - g.rate / r.rate
            p95 = percentile(g.latencies, 95) / percentile(r.latencies, 95) - 1
            res.cells[f"{users} conv, gateway overhead"] = (
                f"{loss:+.0%} msg/s, {p95:+.0%} p95")
        loads.append(load())
    parse = await parse_times(stack.rasa, script, args.parses)
    res.cells["NLU parse p50/p95 (ms)"] = pair(parse)
    res.cells["RSS after load / peak (MB)"] = (
        f"{rss_mb(rasa_pid):.0f} / {rss_mb(rasa_pid, 'VmHWM'):.0f}")
    loads.append(load())
    res.cells["load avg during run"] = " .. ".join(sorted({x.split('/')[0] for x in loads}))
    return res


def train_time(bot: str, tmp: Path) -> float:
    """Seconds for a full `rasa train --force` into tmp, with an empty Rasa cache."""
    out = tmp / bot
    env = rasa_base_env()
    env["RASA_CACHE_DIRECTORY"] = str(tmp / f"cache-{bot}")
    if bot == "stock":
        cmd = [sys.executable, "-m", "rasa", "train", "--force", "--out", str(out)]
        cwd = STOCK_DIR
    else:
        from bot.train import TRAINING_DATA, effective_config

        env["PYTHONPATH"] = str(ROOT)
        cmd = [sys.executable, "-m", "rasa", "train", "--force", "--config",
               str(effective_config()), "--domain", "domain", "--data", *TRAINING_DATA,
               "--out", str(out)]
        cwd = ROOT
    started = time.monotonic()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.monotonic() - started


TARGETS = {
    "1 user, turn 30 p50/p95 (ms)": ("p95 <= 150 ms", lambda r: _p95(r, "one") <= 0.150),
    "20 conv, gateway": ("p95 <= 1 s at >= 30 msg/s",
                         lambda r: _rate(r, 20) >= 30 and _gp95(r, 20) <= 1.0),
    "20 conv, gateway overhead": ("<= 10 %", lambda r: _overhead(r, 20) <= 0.10),
    "start-up (s)": ("<= 45 s", lambda r: float(r.cells["start-up (s)"]) <= 45),
    "RSS after load / peak (MB)": (
        "<= 1.2 GB", lambda r: float(r.cells["RSS after load / peak (MB)"].split("/")[1]) <= 1229),
}


def _p95(r: Result, key: str) -> float:
    return percentile(r.raw[key].by_turn[TURNS], 95)


def _rate(r: Result, users: int) -> float:
    return r.raw[f"c{users}"]["gateway"].rate


def _gp95(r: Result, users: int) -> float:
    return percentile(r.raw[f"c{users}"]["gateway"].latencies, 95)


def _overhead(r: Result, users: int) -> float:
    runs = r.raw[f"c{users}"]
    if "rasa" not in runs:
        return float("nan")
    return 1 - runs["gateway"].rate / runs["rasa"].rate


def verdict(row: str, ours: Result | None) -> tuple[str, str]:
    if row not in TARGETS:
        return "", ""
    target, check = TARGETS[row]
    if ours is None:
        return target, "?"
    try:
        return target, "met" if check(ours) else "MISSED"
    except (KeyError, ValueError, ZeroDivisionError):
        return target, "?"


async def measure_stack(name: str, redis_url: str | None, model: Path, logs: Path,
                        args: argparse.Namespace, addresses: Addresses, client: Any) -> Result:
    print(f"bench: {name}: starting (load {load()})", file=sys.stderr, flush=True)
    if redis_url:
        client.flushdb()
    if name == "stock":
        stack = start_stock(logs)
        script = SCRIPT_STOCK
    else:
        stack = start_ours(model, logs, redis_url, name="redis" if redis_url else "mem")
        script = SCRIPT_NB
    try:
        saved = args.skip_direct
        args.skip_direct = bool(redis_url)  # Redis: through the gateway only
        result = await measure(stack, script, args, addresses)
        args.skip_direct = saved
        dead = [n for n, p in stack.procs.items() if p.poll() is not None]
        if dead:
            raise RuntimeError(f"{', '.join(dead)} exited during the run")
        return result
    finally:
        stack.stop()
        if redis_url:
            client.flushdb()
        print(f"bench: {name}: done (load {load()})", file=sys.stderr, flush=True)


async def run_all(args: argparse.Namespace) -> None:
    import redis

    from bot.train import model_path

    model = model_path()
    stock_model()
    logs = Path(tempfile.mkdtemp(prefix="vonr-bench-"))
    addresses = Addresses()
    results: dict[str, Result] = {}
    started = dt.datetime.now().astimezone()
    load_start = load()
    plan = [("stock", None), ("vonr", None)]
    if not args.no_redis:
        plan.append(("vonr + Redis", REDIS_URL))
    client = redis.Redis.from_url(REDIS_URL)
    try:
        for name, redis_url in plan:
            for attempt in (1, 2):  # one retry: on a shared machine a process can get killed
                try:
                    results[name] = await measure_stack(name, redis_url, model, logs, args,
                                                        addresses, client)
                    break
                except (OSError, RuntimeError, TimeoutError, aiohttp.ClientError) as exc:
                    print(f"bench: {name}: attempt {attempt} failed: {exc!r}", file=sys.stderr,
                          flush=True)
                    results[name] = Result(cells={"failed": f"{type(exc).__name__}"})
        if args.train:
            tmp = Path(tempfile.mkdtemp(prefix="vonr-train-"))
            try:
                for name, bot in (("stock", "stock"), ("vonr", "ours")):
                    print(f"bench: training {name} (load {load()})", file=sys.stderr, flush=True)
                    results[name].cells["full training (s)"] = f"{train_time(bot, tmp):.0f}"
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    finally:
        client.close()
    shutil.rmtree(logs, ignore_errors=True)
    rows_order: list[str] = []
    for r in results.values():
        rows_order += [k for k in r.cells if k not in rows_order]
    names = list(results)
    header = ["metric", *names, "target (vonr)", "vonr"]
    rows = []
    for row in rows_order:
        target, ok = verdict(row, results.get("vonr"))
        rows.append([row, *(results[n].cells.get(row, "-") for n in names), target, ok])
    print(f"\nSpeed and scale, {started:%Y-%m-%d %H:%M %Z}; {os.cpu_count()} cores; load avg "
          f"(1/5/15 min) {load_start} at start, {load()} at end; "
          f"{args.conversations} single-user conversations of {TURNS} turns; "
          f"{args.seconds:.0f} s per concurrency level and target in {args.rounds} rounds. "
          "stock = Rasa 3.6.21 `rasa init` bot (REST); vonr = our stack in memory "
          "(1-user rows through the gateway); vonr + Redis = endpoints.redis.yml.\n")
    print(table(header, rows, markdown=args.markdown))


# ---------------------------------------------------------------- profile of a turn (in-process)


class Timings:
    """Seconds per (parent step, step) and turn; the parent is the step running when a step
    starts, so a step that runs in two places (e.g. reading the tracker) shows under both."""

    current: Timings | None = None
    stack: list[str] = []

    def __init__(self) -> None:
        self.turn = 0
        self.data: dict[tuple[str | None, str], dict[int, float]] = defaultdict(
            lambda: defaultdict(float))

    def add(self, label: str, seconds: float, parent: str | None) -> None:
        self.data[(parent, label)][self.turn] += seconds

    def tree(self) -> list[tuple[int, tuple[str | None, str]]]:
        """(depth, key), children after their parent, costliest first."""
        def total(key: tuple[str | None, str]) -> float:
            return sum(self.data[key].values())

        out: list[tuple[int, tuple[str | None, str]]] = []
        seen: set[tuple[str | None, str]] = set()

        def walk(parent: str | None, depth: int) -> None:
            if depth > 6:
                return
            kids = [k for k in self.data if k[0] == parent and k not in seen]
            seen.update(kids)
            for kid in sorted(kids, key=total, reverse=True):
                out.append((depth, kid))
                walk(kid[1], depth + 1)

        walk(None, 0)
        return out


def instrument() -> None:
    """Wraps the steps of Rasa's turn and every graph node with timers (once per process); they
    record into Timings.current."""
    if getattr(instrument, "done", False):
        return
    instrument.done = True  # type: ignore[attr-defined]
    from rasa.core.actions.action import RemoteAction
    from rasa.core.agent import Agent
    from rasa.core.processor import MessageProcessor
    from rasa.core.tracker_store import TrackerStore

    from bot import stores
    from bot.flows.recorder import FlowBroker

    def record(label: str, seconds: float) -> None:
        Timings.stack.pop()
        if Timings.current is not None:
            Timings.current.add(label, seconds, Timings.stack[-1] if Timings.stack else None)
    from rasa.engine.graph import GraphNode

    def wrap_async(cls: Any, name: str, label: str) -> None:
        orig = getattr(cls, name)

        async def wrapper(self: Any, *a: Any, **k: Any) -> Any:
            Timings.stack.append(label)
            t = time.perf_counter()
            try:
                return await orig(self, *a, **k)
            finally:
                record(label, time.perf_counter() - t)

        setattr(cls, name, wrapper)

    def wrap_sync(owner: Any, name: str, label: str | None) -> None:
        """A method of a class, or a function of a module; label None: the graph node's name."""
        orig = getattr(owner, name)

        def wrapper(*a: Any, **k: Any) -> Any:
            node = label or f"node {a[0]._node_name}"
            Timings.stack.append(node)
            t = time.perf_counter()
            try:
                return orig(*a, **k)
            finally:
                record(node, time.perf_counter() - t)

        setattr(owner, name, wrapper)

    wrap_async(Agent, "handle_message", "turn total (Agent.handle_message, incl. lock)")
    wrap_async(MessageProcessor, "fetch_tracker_and_update_session",
               "fetch tracker (+ session start on turn 1)")
    wrap_async(MessageProcessor, "parse_message", "NLU: parse_message (graph below)")
    wrap_async(MessageProcessor, "run_action_extract_slots", "action_extract_slots")
    wrap_sync(MessageProcessor, "_predict_next_with_tracker",
              "policies: predict next action (graph below)")
    wrap_async(MessageProcessor, "_run_action", "run actions (NLG, action server, broker)")
    wrap_async(RemoteAction, "run", "action server call (RemoteAction.run)")
    wrap_async(MessageProcessor, "save_tracker", "save tracker")
    wrap_sync(GraphNode, "__call__", None)
    wrap_sync(TrackerStore, "deserialise_tracker", "deserialise tracker (events from JSON)")
    wrap_sync(stores, "merge_events", "find, redact and append the new events")
    wrap_sync(FlowBroker, "publish", "FlowBroker.publish")
    from bot.nlg import RegistryNLG

    wrap_async(RegistryNLG, "generate", "NLG: RegistryNLG.generate")


async def profile_run(model: Path, redis_url: str | None, conversations: int,
                      cprofile: bool) -> tuple[Timings, str]:
    import cProfile
    import io
    import pstats

    from rasa.core.agent import load_agent
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.core.utils import AvailableEndpoints
    from rasa.utils.log_utils import configure_structlog

    from bot import speedups

    configure_structlog(logging.WARNING)  # no per-step debug lines on stdout
    speedups.install()  # as the Rasa entry point (bot/rasa_server.py) does
    endpoints_file = "endpoints.redis.yml" if redis_url else "endpoints.yml"
    endpoints = AvailableEndpoints.read_endpoints(str(ROOT / endpoints_file))
    agent = await load_agent(model_path=str(model), endpoints=endpoints)
    timings = Timings()
    instrument()
    profiler = cProfile.Profile()
    for script in (SCRIPT_NB[:3],):  # warm-up conversation, not counted
        sender = "warm" + uuid.uuid4().hex[:12]
        for text in script:
            await agent.handle_message(UserMessage(text, CollectingOutputChannel(), sender))
    Timings.current = timings
    for _ in range(conversations):
        sender = "prof" + uuid.uuid4().hex[:12]
        for turn, text in enumerate(SCRIPT_NB, 1):
            timings.turn = turn
            if cprofile:
                profiler.enable()
            await agent.handle_message(UserMessage(text, CollectingOutputChannel(), sender))
            if cprofile:
                profiler.disable()
    Timings.current = None
    out = io.StringIO()
    if cprofile:
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(15)
        stats.sort_stats("cumulative").print_stats(r"rasa|bot/", 30)
        stats.print_callers(r"all_subclasses|resolve_by_type")
    return timings, out.getvalue()


def memory_steps(model: Path) -> list[tuple[str, float]]:
    """RSS of this process after each loading step: where a Rasa instance's memory goes."""
    import tarfile

    steps = [("python + bench imports", rss_mb(os.getpid()))]
    import tensorflow  # noqa: F401

    steps.append(("+ import tensorflow", rss_mb(os.getpid())))
    import rasa.core.agent  # noqa: F401
    import rasa.core.run  # noqa: F401

    steps.append(("+ import rasa (agent, server)", rss_mb(os.getpid())))
    import spacy

    from bot.nlp import PIPELINE_DIR

    nlp = spacy.load(PIPELINE_DIR)
    steps.append((f"+ spacy.load({PIPELINE_DIR.name}) (a second copy comes with the model)",
                  rss_mb(os.getpid())))
    del nlp
    with tarfile.open(model) as tar:
        size = sum(m.size for m in tar.getmembers()) / 2**20
    steps.append((f"(model archive {model.stat().st_size / 2**20:.0f} MB packed, "
                  f"{size:.0f} MB unpacked)", float("nan")))
    return steps


def profile_main(args: argparse.Namespace) -> None:
    import redis

    from bot.train import model_path, rasa_env

    model = model_path()
    memory = memory_steps(model)
    ports = {"actions": free_port(), "rasa": free_port(), "gateway": free_port()}
    state = Path(tempfile.mkdtemp(prefix="vonr-prof-"))
    os.environ.update(rasa_env())
    os.environ["ACTION_ENDPOINT_URL"] = f"http://127.0.0.1:{ports['actions']}/webhook"
    os.environ["VONR_STATE_DIR"] = str(state)
    log = open(state / "actions.log", "wb")  # noqa: SIM115
    actions = subprocess.Popen(commands(model, ports, "endpoints.yml")["actions"], cwd=ROOT,
                               env=dict(os.environ),
                               stdout=log, stderr=subprocess.STDOUT)
    client = redis.Redis.from_url(REDIS_URL)
    load_start = load()
    try:
        wait_http(f"http://127.0.0.1:{ports['actions']}/health", 60, actions)
        # Timings without cProfile (it slows Python code down unevenly); then one more run in
        # memory under cProfile for the function list.
        variants = [("memory", None, False)] + (
            [] if args.no_redis else [("Redis", REDIS_URL, False)]) + [("cProfile", None, True)]
        results = {}
        for name, url, cprofile in variants:
            if url:
                client.flushdb()
                os.environ["REDIS_URL"] = url
            results[name] = asyncio.run(profile_run(model, url, args.conversations, cprofile))
            results.setdefault("rss", rss_mb(os.getpid()))
            if url:
                client.flushdb()
                os.environ.pop("REDIS_URL", None)
    finally:
        actions.terminate()
        actions.wait(timeout=20)
        log.close()
        client.close()
        shutil.rmtree(state, ignore_errors=True)
    profiled = results.pop("cProfile")
    agent_rss = results.pop("rss")
    print("\nMemory of one process loading our model (VmRSS, MB):\n")
    rows = [[step, "-" if mb != mb else f"{mb:.0f}"] for step, mb in memory]
    rows.append(["+ load_agent(our model), after the profiled turns", f"{agent_rss:.0f}"])
    print(table(["step", "RSS MB"], rows, markdown=args.markdown))
    print(f"\nProfile of a turn (ms per turn; mean over {args.conversations} conversations of "
          f"{TURNS} turns of the Norwegian script; in-process agent, action server over HTTP; "
          f"load avg {load_start} at start, {load()} at end)\n")
    header = ["step"]
    for name in results:
        header += [f"{name} t1", f"{name} t30", f"{name} mean"]
    first_timings = next(iter(results.values()))[0]
    labels = first_timings.tree()
    for timings, _ in results.values():
        labels += [x for x in timings.tree() if x[1] not in {key for _, key in labels}]
    rows = []
    n = args.conversations
    for depth, key in labels:
        row = ["  " * depth + key[1]]
        for timings, _ in results.values():
            per_turn = timings.data.get(key, {})
            mean = sum(per_turn.values()) / (n * TURNS)
            first, last = per_turn.get(1, 0) / n, per_turn.get(TURNS, 0) / n
            row += [f"{1000 * first:.1f}", f"{1000 * last:.1f}", f"{1000 * mean:.1f}"]
        rows.append(row)
    print(table(header, rows, markdown=args.markdown))
    print("\ncProfile (in-memory stores, a separate run), top functions by own time, by "
          "cumulative time (Rasa and bot code), and who calls all_subclasses:\n")
    print("\n".join(line for line in profiled[1].splitlines() if line.strip())[:20000])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer conversations, shorter runs")
    parser.add_argument("--markdown", action="store_true", help="a Markdown table")
    parser.add_argument("--train", action="store_true", help="also time full training (minutes)")
    parser.add_argument("--profile", action="store_true", help="profile a turn in-process instead")
    parser.add_argument("--no-redis", action="store_true", help="skip the Redis variant")
    parser.add_argument("--conversations", type=int, help="single-user conversations (default 20)")
    parser.add_argument("--seconds", type=float, help="seconds per concurrency level and target")
    args = parser.parse_args()
    args.skip_direct = False
    args.users = (20, 50)
    args.rounds = 2 if args.quick else 3
    args.conversations = args.conversations or (5 if args.quick else 20)
    args.seconds = args.seconds or (10.0 if args.quick else 30.0)
    args.parses = 60 if args.quick else 200
    if args.profile:
        args.conversations = args.conversations if "--conversations" in sys.argv else (
            2 if args.quick else 5)
        profile_main(args)
    else:
        asyncio.run(run_all(args))


if __name__ == "__main__":
    main()
