"""The gallery's "Needs CIFAR-10" badge follows the API's `needs_met` (issue 13): gone once downloaded."""

from frontend.components.presets import preset_card

from .test_presets import CIFAR
from .test_tables import texts, walk


def needs_notes(preset):
    return [c for c in walk(preset_card(preset)) if "preset-needs" in (getattr(c, "className", "") or "")]


def test_the_badge_names_the_download_command_until_the_data_are_there():
    (note,) = needs_notes(CIFAR | {"needs_met": False})
    assert "iwlab data download cifar10" in texts(note)
    assert needs_notes(CIFAR | {"needs_met": True}) == []
