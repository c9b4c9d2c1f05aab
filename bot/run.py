"""`make run`: starts the action server, Rasa and the gateway (bot/launch.py), prints the URL,
stops all three on Ctrl-C. In-memory stores by default; with REDIS_URL set, trackers and locks live
in Redis."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from bot import launch

URL_VARIABLES = ("RASA_URL", "ACTIONS_URL", "ACTION_ENDPOINT_URL")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model", type=Path)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8080)))
    args = parser.parse_args()
    ports = {"gateway": args.port, "rasa": 5005, "actions": 5055}
    redis_url = os.environ.get("REDIS_URL")
    # URLs set in the environment win, so the gateway can be pointed at another Rasa.
    given = {name: os.environ[name] for name in URL_VARIABLES if name in os.environ}
    # Each process in a session of its own: Ctrl-C reaches only this one, which stops them all.
    stack = launch.start(args.model, ports=ports, env=given, redis_url=redis_url, wait=False,
                         own_sessions=True)
    store = "Redis (endpoints.redis.yml)" if redis_url else "in memory"
    print(f"\n  vonr-bot: http://localhost:{args.port}/   (Rasa :{ports['rasa']}, "
          f"actions :{ports['actions']}, conversations {store})\n  Ctrl-C stops all three.\n",
          flush=True)
    if not os.environ.get("STAFF_PASSWORD_HASH"):
        print("  Staff pages (/staff) are off: set STAFF_PASSWORD_HASH (python -m bot.staff hash)")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while all(p.poll() is None for p in stack.procs.values()):
            time.sleep(0.5)
        dead = [n for n, p in stack.procs.items() if p.poll() is not None]
        print(f"run: {', '.join(dead)} stopped; stopping the rest", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, SystemExit):
        return 0
    finally:
        stack.stop(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
