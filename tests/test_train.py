"""bot/train.py publishes a model only under the key of the inputs it was trained on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot import train


def fake_rasa(models: Path, on_run: Any = None) -> Any:
    def run(cmd: list[str], **kwargs: Any) -> None:
        # Rasa's own naming (rasa.model_training._determine_model_name): a dot starts a suffix.
        name = Path(cmd[cmd.index("--fixed-model-name") + 1]).with_suffix(".tar.gz").name
        (models / name).write_bytes(b"model")
        if on_run:
            on_run()
    return run


def test_a_trained_model_is_published_under_its_key(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(train, "fingerprint", lambda config: "abc")
    monkeypatch.setattr(train.subprocess, "run", fake_rasa(tmp_path))
    target = tmp_path / "abc.tar.gz"
    train._train(tmp_path / "config.yml", tmp_path, target)
    assert target.read_bytes() == b"model"
    assert [p.name for p in tmp_path.iterdir()] == ["abc.tar.gz"]


def test_inputs_edited_during_training_discard_the_model(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    keys = iter(["def"])  # the inputs' hash when training ends
    monkeypatch.setattr(train, "fingerprint", lambda config: next(keys))
    monkeypatch.setattr(train.subprocess, "run", fake_rasa(tmp_path))
    with pytest.raises(SystemExit, match="changed during training"):
        train._train(tmp_path / "config.yml", tmp_path, tmp_path / "abc.tar.gz")
    assert not list(tmp_path.iterdir())


def test_a_failed_training_leaves_nothing_to_reuse(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def crash() -> None:
        raise train.subprocess.CalledProcessError(1, "rasa")

    monkeypatch.setattr(train.subprocess, "run", fake_rasa(tmp_path, on_run=crash))
    with pytest.raises(train.subprocess.CalledProcessError):
        train._train(tmp_path / "config.yml", tmp_path, tmp_path / "abc.tar.gz")
    assert not list(tmp_path.iterdir())
