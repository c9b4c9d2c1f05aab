"""The helpline registry (`data/helplines.yml`): loading, number formatting, opening hours, and
filling `[[id]]` placeholders in answer text. Every phone number a user sees passes through here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import yaml
from holidays.countries import Norway

REGISTRY_PATH = Path(__file__).resolve().parent.parent / "data" / "helplines.yml"
PLACEHOLDER = re.compile(r"\[\[([a-z0-9_]+)(?:\.([a-z_]+))?\]\]")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOLIDAY = "holiday"  # optional key in structured hours: the span on Norwegian public holidays


class RegistryError(ValueError):
    """The registry, or a placeholder pointing into it, is wrong."""


@dataclass(frozen=True)
class Resource:
    id: str
    name: str
    phone: str | None
    web: str | None
    hours: Any
    hours_text: str | None
    source: str
    chat: dict[str, Any] = field(default_factory=dict)

    @property
    def phone_display(self) -> str | None:
        return format_phone(self.phone) if self.phone else None

    def is_open(self, now: datetime | None = None, *, chat: bool = False) -> bool | None:
        """True/False where hours are known, None where they are not."""
        hours = self.chat.get("hours") if chat else self.hours
        return is_open(hours, now)


def format_phone(digits: str) -> str:
    """Norwegian display form: six digits as 3+3, eight as 2+2+2+2 (3+2+3 for mobile and
    800-series numbers); short numbers as they are."""
    if len(digits) == 6:
        return f"{digits[:3]} {digits[3:]}"
    if len(digits) == 8:
        if digits[0] in "4589":
            return f"{digits[:3]} {digits[3:5]} {digits[5:]}"
        return " ".join(digits[i : i + 2] for i in range(0, 8, 2))
    return digits


@lru_cache(maxsize=8)
def _norwegian_holidays(year: int) -> holidays.HolidayBase:
    # Sundays are not counted as holidays here: a Sunday is handled by the `sun` span.
    return Norway(years=year, include_sundays=False, language="no")


def public_holiday(day: date) -> str | None:
    """The name of the Norwegian public holiday (helligdag or 1 and 17 May) on `day`, if any."""
    return _norwegian_holidays(day.year).get(day)


def is_open(hours: Any, now: datetime | None = None, tz: str = "Europe/Oslo") -> bool | None:
    """Open now by structured hours. On a Norwegian public holiday the `holiday` span applies
    where the registry gives one; otherwise a weekday-only service is closed, and a service that
    also opens at weekends is unknown (its holiday hours are not verified)."""
    if hours == "always":
        return True
    if not isinstance(hours, dict):
        return None
    now = (now or datetime.now(ZoneInfo(tz))).astimezone(ZoneInfo(tz))
    if public_holiday(now.date()):
        if HOLIDAY in hours:
            span = hours[HOLIDAY]
        elif any(hours.get(day) for day in ("sat", "sun")):
            return None
        else:
            return False
    else:
        span = hours.get(DAYS[now.weekday()])
    if not span:
        return False
    start, end = (time.fromisoformat(t) for t in span)
    return start <= now.time() < end


@dataclass(frozen=True)
class Registry:
    resources: dict[str, Resource]

    def __getitem__(self, rid: str) -> Resource:
        try:
            return self.resources[rid]
        except KeyError:
            raise RegistryError(f"unknown resource '{rid}' in a placeholder") from None

    def numbers(self) -> set[str]:
        """Every phone number in the registry, digits only."""
        return {r.phone for r in self.resources.values() if r.phone}

    def render(self, text: str) -> str:
        """Fill `[[id]]` (phone, or the website where no verified number), `[[id.web]]`,
        `[[id.name]]`, `[[id.hours]]` and `[[id.tel]]` (digits only, for tel: links)."""

        def fill(m: re.Match[str]) -> str:
            res, attr = self[m.group(1)], m.group(2) or "phone"
            if attr == "phone":
                value = res.phone_display or res.web
            elif attr == "tel":
                value = res.phone
            elif attr in ("web", "name", "hours"):
                value = res.hours_text if attr == "hours" else getattr(res, attr)
            else:
                raise RegistryError(f"unknown placeholder field '{attr}' in {m.group(0)}")
            if not value:
                raise RegistryError(f"{m.group(0)}: '{res.id}' has no {attr}")
            return value

        return PLACEHOLDER.sub(fill, text)


def parse(data: dict[str, Any]) -> Registry:
    resources = {}
    for rid, r in (data.get("resources") or {}).items():
        phone = r.get("phone")
        if phone is not None:
            phone = str(phone)
            if not phone.isdigit():
                raise RegistryError(f"{rid}: phone must be digits only, got {phone!r}")
            if not r.get("verified"):
                raise RegistryError(f"{rid}: an unverified number must not be listed")
        if not r.get("source"):
            raise RegistryError(f"{rid}: every resource needs a source")
        resources[rid] = Resource(
            id=rid,
            name=r["name"],
            phone=phone,
            web=r.get("web"),
            hours=r.get("hours"),
            hours_text=r.get("hours_text"),
            source=r["source"],
            chat=r.get("chat") or {},
        )
    return Registry(resources)


@lru_cache(maxsize=1)
def load(path: Path = REGISTRY_PATH) -> Registry:
    return parse(yaml.safe_load(path.read_text(encoding="utf-8")))
