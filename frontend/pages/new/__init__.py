"""`/new`: the form for a weighting experiment, generated from `GET /catalog`: one control per run
parameter (run_form), in sections, shown only where it matters, with the catalog's limits checked as
you type and the API's 422 shown on the field it names; besides the weights and seeds, up to three
more sweep axes over any run parameter, with the run count and a time estimate shown before submitting.

Modules: `spec` (form values -> ExperimentSpec, limits, the API's errors, cloning), `layout` (the
form), `state` (the callbacks' Inputs/States and their values by name), `checks` (callbacks while
typing: visibility, limits, run count and estimate), `submit` (submitting, refusal, confirmation).
"""

from __future__ import annotations

from ...client import ApiClient
from . import checks, submit, upload
from .layout import layout
from .spec import (
    AXES,
    FALLBACK,
    FIELDS,
    build_spec,
    clone_values,
    describe_errors,
    extra_axes,
    limit_errors,
    listed,
    parse_list,
    readable_axes,
)
from .state import RUN_IDS, RUN_VALUES, run_values
from .submit import LONG_SECONDS


def register(app, client: ApiClient) -> None:
    # in the order the single module registered them: the checks first, then submitting
    checks.register(app)
    submit.register(app, client)
    upload.register(app, client)


__all__ = [
    "AXES",
    "FALLBACK",
    "FIELDS",
    "LONG_SECONDS",
    "RUN_IDS",
    "RUN_VALUES",
    "build_spec",
    "clone_values",
    "describe_errors",
    "extra_axes",
    "layout",
    "limit_errors",
    "listed",
    "parse_list",
    "readable_axes",
    "register",
    "run_values",
]
