"""Placeholder filling in bot/registry.py, including `[[id.tel]]` for tel: links."""

from __future__ import annotations

import pytest

from bot import registry
from bot.registry import RegistryError


@pytest.fixture(scope="module")
def reg() -> registry.Registry:
    return registry.load()


def test_phone_placeholder_is_display_form(reg: registry.Registry) -> None:
    assert reg.render("Ring [[vo_linjen]].") == "Ring 116 006."
    assert reg.render("[[police_emergency]]") == "112"


def test_tel_placeholder_is_digits_only(reg: registry.Registry) -> None:
    assert reg.render('<a href="tel:[[vo_linjen.tel]]">[[vo_linjen]]</a>') == (
        '<a href="tel:116006">116 006</a>'
    )
    assert reg.render("tel:[[police_emergency.tel]]") == "tel:112"
    assert reg.render("[[rosa.tel]]") == "22331160"
    for rid, res in reg.resources.items():
        if res.phone:
            value = reg.render(f"[[{rid}.tel]]")
            assert value.isdigit() and value == res.phone


def test_tel_placeholder_without_verified_number_fails(reg: registry.Registry) -> None:
    # No number, no tel: link; never fall back to the website inside an href="tel:...".
    with pytest.raises(RegistryError, match="has no tel"):
        reg.render("[[krisesenter.tel]]")


def test_web_name_hours_placeholders(reg: registry.Registry) -> None:
    assert reg.render("[[vo_linjen.web]]") == "vo-linjen.no"
    assert reg.render("[[krisesenter]]") == "dinutvei.no"
    assert reg.render("[[vo_linjen.hours]]") == "døgnåpen"
    assert reg.render("[[police_emergency.name]]") == "Politiet, nødnummer"


def test_unknown_placeholders_fail(reg: registry.Registry) -> None:
    with pytest.raises(RegistryError):
        reg.render("[[nobody]]")
    with pytest.raises(RegistryError):
        reg.render("[[vo_linjen.fax]]")
