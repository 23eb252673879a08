"""The callbacks' view of the form: the run parameters' values and ids (whatever the catalog
lists), the sweep builder's rows as (parameter, values) pairs, and the submit callback's States
unpacked by name, declared beside the unpacking so the two keep one order."""

from __future__ import annotations

from typing import NamedTuple

from dash import ALL, Input, State

from ...components import run_form
from .spec import AXES, FIELDS

# The form's own fields (the sweep row), in the order their States and Outputs are declared.
OWN = list(FIELDS)
# Every run parameter's value and id, whatever the catalog lists: inputs and selects, then switches.
RUN_VALUES = [
    Input({"type": run_form.FIELD, "name": ALL}, "value"),
    Input({"type": run_form.SWITCH, "name": ALL}, "value"),
]
RUN_IDS = [State({"type": run_form.FIELD, "name": ALL}, "id"), State({"type": run_form.SWITCH, "name": ALL}, "id")]


def run_values(values, switches, value_ids, switch_ids) -> dict:
    return {i["name"]: v for i, v in zip(value_ids, values)} | {
        i["name"]: bool(v) for i, v in zip(switch_ids, switches)
    }


def axis_pairs(axis_values) -> list[tuple]:
    """The builder's values, parameter and values box alternating (AXES' order), as rows."""
    return list(zip(axis_values[::2], axis_values[1::2]))


# What submit reads, in this order (unpacked by `submitted`).
SUBMIT_STATES = [
    *[State(FIELDS[f][0], "value") for f in OWN],
    *[State(i, "value") for pair in AXES for i in pair],
    *[State(v.component_id, v.component_property) for v in RUN_VALUES],
    *RUN_IDS,
    State("catalog-store", "data"),
]


class Submitted(NamedTuple):
    form: dict  # the own fields and every run parameter, by name
    pairs: list[tuple]  # the sweep builder's rows: (parameter or empty, its values text)
    catalog: dict  # catalog-store's data ({} before it loads)


def submitted(states) -> Submitted:
    """SUBMIT_STATES' values by name, rather than by position in the callback's arguments."""
    own_values, rest = states[: len(OWN)], states[len(OWN) :]
    *axis_values, values, switches, value_ids, switch_ids, catalog = rest
    form = dict(zip(OWN, own_values)) | run_values(values, switches, value_ids, switch_ids)
    return Submitted(form, axis_pairs(axis_values), catalog or {})
