"""The one loader of content: the text blocks in data/content/blocks.yml, the staff pages' copy in
data/content/staff.yml and the domain's responses. Used by the gateway, the actions, the NLG and
the flow counts; it imports no Rasa, so the HTTP edge and the action server stay free of Rasa core.

Every user-visible string is content data; code asks for it here by key. Placeholders:
`[[id]]` (and `[[id.tel]]`, `[[id.web]]` ...) are filled from the helpline registry by
`registry.render`; `[[text:<block>]]` in a static file is replaced by that block as JSON (the
widget's strings); `{name}` fields are Python format fields filled by the code that uses a block.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot import registry

ROOT = Path(__file__).resolve().parent.parent
BLOCKS_PATH = ROOT / "data" / "content" / "blocks.yml"
STAFF_PATH = ROOT / "data" / "content" / "staff.yml"
TOPICS_PATH = ROOT / "data" / "content" / "topics.yml"
# The domain Rasa trains on: a file, or a directory of files that Rasa merges.
DOMAIN_PATH = ROOT / "domain"
TEXT_PLACEHOLDER = re.compile(r"\[\[text:([a-z_]+)\]\]")


@lru_cache(maxsize=1)
def blocks() -> dict[str, Any]:
    return yaml.safe_load(BLOCKS_PATH.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def staff() -> dict[str, Any]:
    """The staff pages' copy."""
    return yaml.safe_load(STAFF_PATH.read_text(encoding="utf-8"))


def _merge(into: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
    """Rasa's way of merging domain files: mappings merge, lists add up."""
    for key, value in more.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        elif isinstance(value, list) and isinstance(into.get(key), list):
            into[key] = into[key] + value
        else:
            into[key] = value
    return into


def domain_files() -> list[Path]:
    return sorted(DOMAIN_PATH.rglob("*.yml")) if DOMAIN_PATH.is_dir() else [DOMAIN_PATH]


@lru_cache(maxsize=1)
def domain() -> dict[str, Any]:
    """The domain as plain data (never Rasa's Domain class, which needs Rasa core)."""
    merged: dict[str, Any] = {}
    for path in domain_files():
        _merge(merged, yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    return merged


def responses() -> dict[str, list[dict[str, Any]]]:
    return domain().get("responses") or {}


def render(key: str, **fields: Any) -> str:
    """Block `key` (dotted: "gateway.unavailable") with its fields and registry numbers filled."""
    value: Any = blocks()
    for part in key.split("."):
        value = value[part]
    return registry.load().render(str(value).format(**fields))


@lru_cache(maxsize=1)
def topics() -> dict[str, str]:
    """Intent -> short topic name, for the "Mente du ...?" buttons (data/content/topics.yml)."""
    data = yaml.safe_load(TOPICS_PATH.read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in (data.get("topics") or {}).items()}


def topic_button(intent: str) -> dict[str, str]:
    return {"title": topics()[intent], "payload": "/" + intent}


def call_button(rid: str) -> dict[str, str]:
    """A button that calls helpline `rid`, titled as in blocks.yml `call:`."""
    phone = registry.load()[rid].phone
    if not phone:
        raise registry.RegistryError(f"{rid}: no verified number to call")
    return {"title": render(f"call.{rid}"), "payload": "tel:" + phone}


def call_buttons(*rids: str) -> list[dict[str, str]]:
    return [call_button(rid) for rid in rids]


def greeting() -> dict[str, Any]:
    """The first message the widget shows: `utter_greet`, rendered as the NLG renders it."""
    render_text = registry.load().render
    first = responses()["utter_greet"][0]
    return {
        "text": render_text(first["text"]),
        "buttons": [{"title": render_text(b["title"]), "payload": render_text(b["payload"])}
                    for b in first.get("buttons") or []],
    }


def widget_text() -> dict[str, Any]:
    """Every string the widget shows, filled in, with the greeting and the offline card."""
    render_text = registry.load().render
    text: dict[str, Any] = {key: render_text(v) for key, v in blocks()["widget"].items()}
    text["offline"] = render("gateway.unavailable")
    text["call"] = call_buttons("vo_linjen", "police_emergency")
    text["greeting"] = greeting()
    return text


def fill(body: str) -> str:
    """`[[text:<block>]]` in a static file: that block as a JSON object."""
    sources = {"widget": widget_text}

    def replace(m: re.Match[str]) -> str:
        return json.dumps(sources[m.group(1)](), ensure_ascii=False)

    return TEXT_PLACEHOLDER.sub(replace, body)
