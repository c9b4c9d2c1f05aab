"""The helpline registry: the one source of every number a user sees."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot import registry

OSLO = ZoneInfo("Europe/Oslo")


def test_format_phone() -> None:
    assert registry.format_phone("116006") == "116 006"
    assert registry.format_phone("22331160") == "22 33 11 60"
    assert registry.format_phone("47809050") == "478 09 050"
    assert registry.format_phone("02800") == "02800"
    assert registry.format_phone("112") == "112"


def test_every_resource_has_a_source_and_only_verified_numbers() -> None:
    reg = registry.load()
    assert {"vo_linjen", "rosa", "police_emergency", "alarmtelefonen"} <= set(reg.resources)
    for res in reg.resources.values():
        assert res.source
        assert res.phone or res.web, f"{res.id} has neither a number nor a website"


def test_unverified_number_is_refused() -> None:
    bad = {"resources": {"x": {"name": "X", "phone": "80057000", "verified": False, "source": "s"}}}
    with pytest.raises(registry.RegistryError, match="unverified"):
        registry.parse(bad)


def test_render_fills_numbers_and_falls_back_to_web() -> None:
    reg = registry.load()
    assert reg.render("Ring [[vo_linjen]].") == "Ring 116 006."
    assert reg.render("[[rosa.name]]: [[rosa]]") == "ROSA (hjelp ved menneskehandel): 22 33 11 60"
    assert reg.render("[[atv]]") == "atv-stiftelsen.no"  # no verified number: the website


@pytest.mark.parametrize("text", ["[[nope]]", "[[vo_linjen.colour]]", "[[police.hours]]"])
def test_render_rejects_bad_placeholders(text: str) -> None:
    with pytest.raises(registry.RegistryError):
        registry.load().render(text)


def test_opening_hours() -> None:
    reg = registry.load()
    tuesday_noon = datetime(2026, 11, 17, 12, 0, tzinfo=OSLO)
    tuesday_night = datetime(2026, 11, 17, 23, 0, tzinfo=OSLO)
    saturday_late = datetime(2026, 11, 21, 23, 30, tzinfo=OSLO)
    assert reg["vo_linjen"].is_open(tuesday_night) is True
    assert reg["kompetanseteamet"].is_open(tuesday_noon) is True
    assert reg["kompetanseteamet"].is_open(tuesday_night) is False
    assert reg["kompetanseteamet"].is_open(saturday_late) is False
    assert reg["alarmtelefonen"].is_open(tuesday_noon, chat=True) is False
    assert reg["alarmtelefonen"].is_open(saturday_late, chat=True) is True
    assert reg["vo_linjen"].is_open(tuesday_noon, chat=True) is None  # hours not known
    assert reg["police"].is_open(tuesday_noon) is None
