"""Training with reuse: a model is trained only when its inputs changed, and kept in a cache
outside the clone (keyed by a hash of the inputs) so every clone on the machine reuses it.

`python -m bot.train` prints the path of a model that matches the working tree.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

from bot import nlp
from bot.crisis_contract import TRAINED_SETS

ROOT = nlp.ROOT
HOME = Path(os.environ.get("VONR_HOME", Path.home() / ".cache" / "vonr"))
TRAINING_DATA = ("data/nlu", "data/stories", "data/rules")
# The crisis classifier trains inside Rasa's graph on data/crisis/ and the labelled sets named in
# TRAINED_SETS (see bot/crisis_model.py).
INPUTS = ("config.yml", "domain", "requirements.txt", "bot/components.py", "bot/ngram_intent.py",
          "bot/ngrams.py", "bot/crisis_contract.py", "bot/crisis_model.py", "data/crisis",
          *(f"tests/crisis/{name}" for name in TRAINED_SETS), *TRAINING_DATA)


def effective_config() -> Path:
    """config.yml, or a copy naming the spaCy model in SPACY_MODEL (e.g. nb_core_news_md)."""
    model = os.environ.get("SPACY_MODEL")
    if not model:
        return ROOT / "config.yml"
    text = (ROOT / "config.yml").read_text(encoding="utf-8")
    out = ROOT / "build" / f"config.{model}.yml"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text.replace(f"model: {nlp.spacy_model_default()}", f"model: {model}"))
    return out


def fingerprint(config: Path) -> str:
    h = hashlib.sha256()
    paths: list[Path] = []
    for name in INPUTS:
        p = ROOT / name
        paths += sorted(p.rglob("*.yml")) if p.is_dir() else [p]
    for p in paths:
        h.update(str(p.relative_to(ROOT)).encode())
        h.update(p.read_bytes())
    h.update(config.read_bytes())
    h.update((os.environ.get("SPACY_MODEL") or nlp.pipeline_fingerprint()).encode())
    return h.hexdigest()[:16]


def rasa_env(serving: bool = True) -> dict[str, str]:
    """The environment for Rasa processes; `serving` adds the settings for answering (not for
    training, which uses TensorFlow's defaults so that models stay as they were trained)."""
    env = dict(os.environ)
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        PYTHONUNBUFFERED="1",
        TF_CPP_MIN_LOG_LEVEL="3",
        PYTHONPATH=str(ROOT),
        # Rasa's own cache keys the spaCy model on its path only; key the cache on its content.
        RASA_CACHE_DIRECTORY=str(HOME / f"rasa-cache-{nlp.pipeline_fingerprint()}"),
    )
    if not serving:
        return env
    # Measured on 2 cores (docs/performance.md): one TensorFlow thread per op and between ops
    # is faster for our small models than TF's default of one per core, which only contend
    # with each other, the gateway and the action server; two malloc arenas instead of eight
    # per core keep Rasa's resident memory lower at no cost in speed.
    # A conversation's lock ticket lives 20 s, not Rasa's 60: a ticket left by an instance that
    # died mid-turn blocks its conversation that long, and Sanic cancels any request after 60 s
    # (Rasa then answers 200 with nothing and the turn is lost). A live turn takes well under a
    # second; the gateway gives up after RASA_TIMEOUT (10 s) anyway.
    for name, value in (("TF_INTER_OP_PARALLELISM_THREADS", "1"),
                        ("TF_INTRA_OP_PARALLELISM_THREADS", "1"), ("MALLOC_ARENA_MAX", "2"),
                        ("TICKET_LOCK_LIFETIME", "20")):
        env.setdefault(name, value)
    return env


def model_path() -> Path:
    """The cached model for the current inputs, trained first if missing."""
    config = effective_config()
    models = HOME / "models"
    target = models / f"{fingerprint(config)}.tar.gz"
    if target.exists():
        print(f"train: inputs unchanged, reusing {target}", file=sys.stderr)
        return target
    models.mkdir(parents=True, exist_ok=True)
    # One training per input set at a time: a second caller (another clone, a parallel test run)
    # waits and then reuses the model instead of training the same one again beside it.
    with open(models / f"{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists():
            print(f"train: trained meanwhile, reusing {target}", file=sys.stderr)
            return target
        _train(config, models, target)
    return target


def _train(config: Path, models: Path, target: Path) -> None:
    """Train under a temporary name and publish the model only if the inputs it was keyed by are
    still the inputs when training ends: an interrupted training or an edit made meanwhile (Rasa
    reads data/crisis/ minutes after data/nlu/) never leaves a model under the wrong key."""
    started = time.monotonic()
    key = target.name[: -len(".tar.gz")]
    partial = f"{key}-partial-{os.getpid()}"  # no dot: Rasa would read it as a suffix
    built = models / f"{partial}.tar.gz"
    cmd = [sys.executable, "-m", "rasa", "train", "--config", str(config), "--domain", "domain",
           "--data", *TRAINING_DATA, "--out", str(models), "--fixed-model-name", partial]
    try:
        subprocess.run(cmd, cwd=ROOT, env=rasa_env(serving=False), check=True,
                       stdout=sys.stderr)
        if fingerprint(config) != key:
            raise SystemExit("train: the inputs changed during training; the model was "
                             "discarded, run again")
        built.replace(target)
    finally:
        built.unlink(missing_ok=True)
    print(f"train: trained in {time.monotonic() - started:.0f} s -> {target}", file=sys.stderr)


if __name__ == "__main__":
    print(model_path())
