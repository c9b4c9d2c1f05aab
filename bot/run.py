"""`make run`: starts the action server, Rasa and the gateway, prints the URL, stops all three on
Ctrl-C. In-memory stores by default; with REDIS_URL set, trackers and locks live in Redis."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bot.train import ROOT, rasa_env


def endpoints_file() -> str:
    return "endpoints.redis.yml" if os.environ.get("REDIS_URL") else "endpoints.yml"


def commands(
    model: Path, ports: dict[str, int], endpoints: str | None = None
) -> dict[str, list[str]]:
    py = sys.executable
    return {
        "actions": [py, "-m", "bot.actions_server", "--actions", "actions",
                    "--port", str(ports["actions"])],
        "rasa": [py, "-m", "rasa", "run", "--model", str(model), "--port", str(ports["rasa"]),
                 "--interface", "127.0.0.1", "--endpoints", endpoints or endpoints_file(),
                 "--credentials", "credentials.yml"],
        "gateway": [py, "-m", "bot.gateway", "--port", str(ports["gateway"])],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model", type=Path)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8080)))
    args = parser.parse_args()
    ports = {"gateway": args.port, "rasa": 5005, "actions": 5055}
    env = rasa_env()
    env.setdefault("RASA_URL", f"http://127.0.0.1:{ports['rasa']}")
    env.setdefault("ACTIONS_URL", f"http://127.0.0.1:{ports['actions']}")
    env.setdefault("ACTION_ENDPOINT_URL", env["ACTIONS_URL"] + "/webhook")
    procs = {
        name: subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
        for name, cmd in commands(args.model, ports).items()
    }
    store = "Redis (" + endpoints_file() + ")" if os.environ.get("REDIS_URL") else "in memory"
    print(f"\n  vonr-bot: http://localhost:{args.port}/   (Rasa :{ports['rasa']}, "
          f"actions :{ports['actions']}, conversations {store})\n  Ctrl-C stops all three.\n",
          flush=True)
    if not os.environ.get("STAFF_PASSWORD_HASH"):
        print("  Staff pages (/staff) are off: set STAFF_PASSWORD_HASH (python -m bot.staff hash)")

    def stop(*_: object) -> None:
        for proc in procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while all(p.poll() is None for p in procs.values()):
            time.sleep(0.5)
        dead = [n for n, p in procs.items() if p.poll() is not None]
        print(f"run: {', '.join(dead)} stopped; stopping the rest", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, SystemExit):
        return 0
    finally:
        stop()


if __name__ == "__main__":
    sys.exit(main())
