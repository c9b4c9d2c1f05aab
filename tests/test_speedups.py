"""bot/speedups.py changes how fast Rasa starts, deserialises and predicts, never what the model
says: the same model run with Rasa's own code and with our speedups (fast load, outvoted policies
skipped) gives the same intents, confidences, next actions, predicting policies and action
confidences. Each runs in a process of its own, so the patches cannot leak into the reference
run. Run directly (`python tests/test_speedups.py MODEL fast|rasa`) it prints them."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
# Rule-driven turns, and unclear ones (fallback, nonsense) where the rules are not certain and the
# other policies decide.
SCRIPT = ["hei", "jeg vet ikke om det jeg opplever er vold", "han sjekker telefonen min", "ja",
          "hva er vo-linjen", "mer", "asdf qwerty", "blå bil", "nei", "hm", "mer",
          "han truer med å drepe meg nå", "takk", "ha det"]


def messages() -> list[str]:
    held = yaml.safe_load((ROOT / "tests" / "nlu" / "heldout.yml").read_text(encoding="utf-8"))
    texts = [line[2:].strip() for block in held["nlu"][:24]
             for line in block["examples"].splitlines()[:2] if line.startswith("- ")]
    return texts + SCRIPT


async def outputs(model: str, fast: bool) -> dict[str, Any]:
    from rasa.core.agent import load_agent
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.core.policies.ted_policy import TEDPolicy

    skipped = []
    if fast:
        from bot import speedups

        speedups.install_fast_model_load()
        speedups.install_outvoted_policy_skip()
        predict = TEDPolicy.predict_action_probabilities

        def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
            prediction = predict(self, *args, **kwargs)
            skipped.append(max(prediction.probabilities) == 0)
            return prediction

        TEDPolicy.predict_action_probabilities = counting  # before the model builds its graph
    patched = hasattr(RulePolicy.predict_action_probabilities, "vonr_fast")
    agent = await load_agent(model_path=model)
    parses = []
    for text in messages():
        parse = await agent.parse_message(text)
        parses.append([(r["name"], r["confidence"]) for r in parse["intent_ranking"][:3]])
    for text in SCRIPT:  # the dialogue policies: which actions follow each message, and why
        await agent.handle_text(text, sender_id="speedups")
    tracker = await agent.tracker_store.retrieve("speedups")
    actions = [(e.action_name, e.policy, e.confidence) for e in tracker.events
               if getattr(e, "action_name", None)]
    return {"parses": parses, "actions": actions, "patched": patched,
            "ted": [len(skipped), sum(skipped)]}


def run(model: Path, mode: str) -> dict[str, Any]:
    from bot.train import rasa_env

    out = subprocess.run([sys.executable, __file__, str(model), mode], cwd=ROOT, env=rasa_env(),
                         capture_output=True, text=True, timeout=600, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_speedups_predict_exactly_like_rasa(model_path: Path) -> None:
    fast, reference = run(model_path, "fast"), run(model_path, "rasa")
    assert fast["patched"] and not reference["patched"]
    # TED was skipped where a rule was certain, and still predicted where none was.
    predictions, skipped = fast["ted"]
    assert 0 < skipped < predictions, fast["ted"]
    assert len(fast["actions"]) > 2 * len(SCRIPT)
    for got, want in zip(fast["actions"], reference["actions"], strict=True):
        assert got[:2] == want[:2], (got, want)
        assert (got[2] is None) == (want[2] is None)
        assert got[2] is None or abs(got[2] - want[2]) < 1e-5, (got, want)
    assert len(fast["parses"]) == len(reference["parses"]) > 40
    for got, want in zip(fast["parses"], reference["parses"], strict=True):
        assert [name for name, _ in got] == [name for name, _ in want]
        for (_, a), (_, b) in zip(got, want, strict=True):
            assert abs(a - b) < 1e-5


GOOD = {"events": [{"event": "slot", "name": "audience", "value": "self"}],
        "responses": [{"text": "hei"}]}
BAD = [{"events": [{"event": "slot"}]}, {"events": "none"}, {"responses": [1]},
       {"events": [{"event": "no_such_event"}]}]


def test_cached_action_validation_accepts_and_rejects_like_rasa() -> None:
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction

    from bot import speedups

    action = RemoteAction("action_helplines_open", None)
    speedups.install_action_validation_cache()  # idempotent: another test may have installed it
    fast = RemoteAction._validate_action_result
    rasa_validate = fast.vonr_original  # type: ignore[attr-defined]
    verdicts = []
    for validate in (rasa_validate, fast):
        assert validate(action, GOOD) is True
        messages = []
        for bad in BAD:
            with pytest.raises(ValidationError) as err:
                validate(action, bad)
            messages.append(err.value.message)
        verdicts.append(messages)
    assert verdicts[0] == verdicts[1]
    assert all("Failed to validate Action server response" in m for m in verdicts[1])


INSTALL = """
import json, sys
import rasa
if sys.argv[1] != "-":
    rasa.__version__ = sys.argv[1]  # as another Rasa release would say
from bot import speedups
ok = speedups.install()
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event
patched = [Event.resolve_by_type is speedups._resolve_by_type,
           hasattr(RemoteAction._validate_action_result, "vonr_fast")]
if ok:  # these two import TensorFlow: only where they are meant to be patched
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.utils.tensorflow.models import RasaModel
    patched += [hasattr(RulePolicy.predict_action_probabilities, "vonr_fast"),
                hasattr(RasaModel.__dict__["load"].__func__, "vonr_fast")]
print(json.dumps({"ok": ok, "patched": patched}))
"""


@pytest.mark.parametrize("switch, version, installed, says", [
    ("1", "-", True, ""),
    ("0", "-", False, "speedups off (VONR_SPEEDUPS=0): running pure Rasa"),
    ("1", "3.7.0", False, "written for Rasa 3.6.21, this is Rasa 3.7.0; running pure Rasa"),
])
def test_install_checks_the_switch_and_the_rasa_version(
    switch: str, version: str, installed: bool, says: str
) -> None:
    """`install()` patches all four, or (off, or another Rasa) none and says why on stderr."""
    from bot.train import rasa_env

    env = {**rasa_env(), "VONR_SPEEDUPS": switch}
    out = subprocess.run([sys.executable, "-c", INSTALL, version], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["ok"] is installed
    assert result["patched"] == ([True] * 4 if installed else [False, False]), result
    assert says in out.stderr


def test_the_rasa_entry_point_installs_them() -> None:
    """`python -m bot.rasa_server` is Rasa's command line with install() first."""
    source = (ROOT / "bot" / "rasa_server.py").read_text(encoding="utf-8")
    assert source.index("speedups.install()") < source.index("rasa_main()")
    # ... and it is how the stack starts Rasa (make run, the tests, the benchmarks).
    assert '"-m", "bot.rasa_server", "run"' in (ROOT / "bot" / "launch.py").read_text("utf-8")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    result = asyncio.run(outputs(sys.argv[1], sys.argv[2] == "fast"))
    print(json.dumps(result))
