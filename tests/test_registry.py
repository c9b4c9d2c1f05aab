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


@pytest.mark.parametrize(("day", "name"), [
    (datetime(2026, 12, 25, 12, 0, tzinfo=OSLO), "Første juledag"),  # a Friday
    (datetime(2026, 4, 6, 12, 0, tzinfo=OSLO), "Andre påskedag"),  # Easter Monday
    (datetime(2026, 4, 2, 12, 0, tzinfo=OSLO), "Skjærtorsdag"),
    (datetime(2026, 5, 14, 12, 0, tzinfo=OSLO), "Kristi himmelfartsdag"),
    (datetime(2026, 5, 25, 12, 0, tzinfo=OSLO), "Andre pinsedag"),
    (datetime(2027, 5, 17, 12, 0, tzinfo=OSLO), "Grunnlovsdag"),  # a Monday
    (datetime(2027, 1, 1, 12, 0, tzinfo=OSLO), "Første nyttårsdag"),
    (datetime(2027, 5, 1, 12, 0, tzinfo=OSLO), "Arbeidernes dag"),
])
def test_public_holidays_close_weekday_only_services(day: datetime, name: str) -> None:
    reg = registry.load()
    assert name in (registry.public_holiday(day.date()) or "")
    assert reg["kompetanseteamet"].is_open(day) is False  # weekdays 09-15, and a holiday
    assert reg["vo_linjen"].is_open(day) is True  # 24/7
    # Alarmtelefonen's chat opens every day; its holiday hours are not verified: unknown.
    assert reg["alarmtelefonen"].is_open(day.replace(hour=17), chat=True) is None


def test_ordinary_days_are_not_holidays() -> None:
    for day in (datetime(2026, 12, 22, 12, 0, tzinfo=OSLO),  # Tuesday before Christmas
                datetime(2026, 11, 17, 12, 0, tzinfo=OSLO),
                datetime(2026, 11, 22, 12, 0, tzinfo=OSLO)):  # a Sunday: its span, no holiday
        assert registry.public_holiday(day.date()) is None
    assert registry.load()["kompetanseteamet"].is_open(datetime(2026, 12, 22, 12, 0, tzinfo=OSLO))


def test_holiday_span_in_the_registry_wins() -> None:
    hours = {"mon": ["09:00", "15:00"], "holiday": ["10:00", "12:00"]}
    easter_monday = datetime(2026, 4, 6, 11, 0, tzinfo=OSLO)
    assert registry.is_open(hours, easter_monday) is True
    assert registry.is_open(hours, easter_monday.replace(hour=13)) is False
    assert registry.is_open({**hours, "holiday": None}, easter_monday) is False
    # Late on 24 December in UTC is already the 25th in Oslo.
    christmas_utc = datetime(2026, 12, 24, 23, 30, tzinfo=ZoneInfo("UTC"))
    assert registry.public_holiday(christmas_utc.astimezone(OSLO).date()) == "Første juledag"
