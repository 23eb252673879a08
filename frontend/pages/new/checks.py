"""The callbacks that follow the user's typing: which run parameters to show, the catalog's limits
(and the API's last word) on each field, and the run count with its time estimate."""

from __future__ import annotations

import math

from dash import ALL, Input, Output, State, html

from ...components import run_fields as rf
from ...components import run_form
from ...components import sweep_builder as axes
from .spec import AXES, FIELDS, extra_axes, limit_errors, parse_list, readable_axes
from .state import RUN_IDS, RUN_VALUES, axis_pairs, run_values


def register(app) -> None:
    @app.callback(
        Output({"type": run_form.GROUP, "name": ALL}, "style"),
        *RUN_VALUES,
        *[Input(i, "value") for pair in AXES for i in pair],
        *RUN_IDS,
        State({"type": run_form.GROUP, "name": ALL}, "id"),
        State("catalog-store", "data"),
    )
    def show_what_matters(values, switches, *rest):
        *axis_values, value_ids, switch_ids, group_ids, catalog = rest
        form = run_values(values, switches, value_ids, switch_ids)
        sweep = readable_axes(axis_pairs(axis_values), (catalog or {}).get("params") or {})
        fields = (catalog or {}).get("fields") or {}
        taken = rf.choices(fields, form, sweep)
        return [{} if rf.relevant(fields, g["name"], taken) else {"display": "none"} for g in group_ids]

    @app.callback(
        Output({"type": run_form.FIELD, "name": ALL}, "invalid"),
        Output({"type": run_form.FEEDBACK, "name": ALL}, "children"),
        RUN_VALUES[0],
        Input("api-errors", "data"),
        *[Input(i, "value") for pair in AXES for i in pair],
        RUN_IDS[0],
        State({"type": run_form.FEEDBACK, "name": ALL}, "id"),
        State("catalog-store", "data"),
    )
    def check_limits(values, api_errors, *rest):
        *axis_values, value_ids, feedback_ids, catalog = rest
        catalog = catalog or {}
        form = {i["name"]: v for i, v in zip(value_ids, values)}
        sweep = readable_axes(axis_pairs(axis_values), catalog.get("params") or {})
        # a swept parameter's base field is not used, whatever its axis box holds so far
        sweep |= {p: [] for p in axis_values[::2] if p and p not in sweep}
        problems = limit_errors(form, catalog.get("fields") or {}, sweep)
        # the API's word on a field holds while the field keeps the value it was given for
        for name, err in (api_errors or {}).items():
            if name not in problems and form.get(name) == err["value"]:
                problems[name] = err["message"]
        return [i["name"] in problems for i in value_ids], [problems.get(i["name"]) for i in feedback_ids]

    @app.callback(
        Output("run-count", "children"),
        Input(FIELDS["pos_weight"][0], "value"),
        Input(FIELDS["seed"][0], "value"),
        *[Input(i, "value") for pair in AXES for i in pair],
        RUN_VALUES[0],
        RUN_IDS[0],
        State("catalog-store", "data"),
    )
    def run_count(weights, seeds, *rest):
        *axis_values, values, value_ids, catalog = rest
        catalog = catalog or {}
        form = {i["name"]: v for i, v in zip(value_ids, values)}
        try:
            sweep = {
                "pos_weight": parse_list(weights, float, "weights"),
                **extra_axes(axis_pairs(axis_values), catalog.get("params") or {}),
                "seed": parse_list(seeds, int, "seeds"),
            }
        except ValueError as err:
            return html.Span(str(err), className="text-danger")
        # no time estimate from a value the form refuses (an epoch count of 0 trains nothing)
        fields = catalog.get("fields") or {}
        invalid = [n for n in ("epochs", "n_train", "batch_size") if n in limit_errors(form, fields, sweep)]
        if invalid:
            runs = math.prod(len(v) for v in sweep.values())
            return html.Span(
                f"{runs} run{'s' * (runs != 1)}; no time estimate while {', '.join(rf.label(fields, n) for n in invalid)} is invalid",
                className="text-danger",
            )
        base = {name: form.get(name) or 1 for name in ("epochs", "n_train", "batch_size")} | {
            "model": form.get("model"),
            "width": form.get("width"),
        }
        return axes.summary(
            {("weights" if k == "pos_weight" else "seeds" if k == "seed" else k): v for k, v in sweep.items()},
            base,
            catalog.get("limit"),
        )
