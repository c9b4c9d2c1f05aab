"""The action server (rasa_sdk) on loopback only. rasa_sdk's command line has no --interface and
binds every address unless SANIC_HOST says otherwise; only Rasa on this machine calls it."""

from __future__ import annotations

import os

LOOPBACK = "127.0.0.1"


def main() -> None:
    os.environ["SANIC_HOST"] = LOOPBACK  # rasa_sdk.endpoint.run reads it; never a wider address
    from rasa_sdk.__main__ import main as rasa_sdk_main

    rasa_sdk_main()


if __name__ == "__main__":
    main()
