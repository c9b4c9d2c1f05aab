"""The Rasa entry point: Rasa's own command line (`python -m bot.rasa_server run ...` takes what
`python -m rasa run ...` takes), with the speed fixes of bot/speedups.py installed first, before
Rasa loads a model. VONR_SPEEDUPS=0, or another Rasa release, runs pure Rasa."""

from __future__ import annotations

from bot import speedups


def main() -> None:
    speedups.install()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
