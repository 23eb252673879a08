"""`/new`: the form for a weighting experiment, generated from `GET /catalog`: one control per run
parameter (run_form), in sections, shown only where it matters, with the catalog's limits checked as
you type and the API's 422 shown on the field it names; besides the weights and seeds, up to three
more sweep axes over any run parameter, with the run count and a time estimate shown before submitting."""

from __future__ import annotations

import math

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, dcc, html

from ..client import ApiClient, ApiError
from ..components import confirm, run_form
from ..components import run_fields as rf
from ..components import sweep_builder as axes

# The form's own fields (the sweep row); the run parameters come from the catalog (run_form).
FIELDS = {
    "name": ("field-name", "Name"),
    "pos_weight": ("field-weights", rf.label("pos_weight")),
    "seed": ("field-seeds", rf.label("seed")),
    "tags": ("field-tags", "Tags"),
}
FALLBACK = {
    "name": "weights-vs-epochs",
    "dataset": "blobs",
    "n_train": 100,
    "noise": 1.0,
    "model": "logreg",
    "hidden": [64],
    "epochs": 200,
    "lr": 0.03,
    "batch_size": 8,
    "weight_decay": 0.0,
    "loss_norm": "sum",
}


def parse_list(text: str | None, kind: type, what: str) -> list:
    """'0.1, 1, 10' -> [0.1, 1.0, 10.0]; duplicates dropped, order kept; ValueError names the bad item."""
    items = [t.strip() for t in (text or "").replace(";", ",").split(",") if t.strip()]
    if not items:
        raise ValueError(f"{what}: give at least one value")
    out = []
    for item in items:
        try:
            value = kind(item)
        except ValueError:
            raise ValueError(f"{what}: '{item}' is not {'an integer' if kind is int else 'a number'}") from None
        if value not in out:
            out.append(value)
    return out


def describe_errors(detail, known=()) -> list[tuple[str | None, str]]:
    """FastAPI 422 detail -> [(form field or None, 'Label: message')]; `known`: the catalog's run
    parameters, besides the ones the form labels itself."""
    if not isinstance(detail, list):
        return [(None, str(detail))]
    names = set(FIELDS) | set(rf.LABELS) | set(known)
    out = []
    for err in detail:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body",)]
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        field = next((p for p in reversed(loc) if p in names), None)
        if field is None:  # model validators name the field in the message: "sweep.epochs: ..." or "classes: ..."
            name, _, rest = msg.removeprefix("sweep.").partition(":")
            if name in names and rest:
                field, msg = name, rest.strip()
        label = rf.label(field) if field else ".".join(loc) or "spec"
        out.append((field, f"{label}: {msg}"))
    return out


AXES = [(f"axis-param-{i}", f"axis-values-{i}") for i in range(axes.MAX_AXES)]


def extra_axes(pairs, params: dict[str, dict]) -> dict[str, list]:
    """[(parameter, 'v1, v2'), ...] from the sweep builder -> {parameter: typed values}; rows
    without a parameter are ignored. ValueError names the parameter."""
    out = {}
    for name, text in pairs:
        if not name:
            continue
        if name in out:
            raise ValueError(f"{name}: swept twice")
        out[name] = axes.parse_axis(name, text, params.get(name, {"kind": "string"}))
    return out


def readable_axes(pairs, params: dict[str, dict]) -> dict[str, list]:
    """The axes that parse so far (for what to show while the user is still typing)."""
    out: dict[str, list] = {}
    for name, text in pairs:
        try:
            out |= extra_axes([(name, text)], params)
        except ValueError:
            pass
    return out


def build_spec(
    values: dict,
    defaults: dict | None = None,
    extra: dict[str, list] | None = None,
    params: dict[str, dict] | None = None,
) -> dict:
    """Form values -> ExperimentSpec JSON. `params`: the catalog's run parameters (run_fields.describe);
    only those in `values` that matter for the chosen data, model and loss go in the base run (the
    others keep the API's default); an empty optional field means the default too. `extra` axes (from
    the sweep builder) join the weights and seeds, and leave the base run. Raises ValueError (naming
    the field) on unparsable lists."""
    params = params or rf.describe(rf.FALLBACK_SCHEMA)
    extra = extra or {}
    base = dict((defaults or {}).get("base", {}))
    taken = rf.choices(values, extra)
    for name, info in params.items():
        if name in rf.SWEEP_FIELDS or name not in values:
            continue
        value = values[name]
        if name in extra or not rf.relevant(name, taken):
            base.pop(name, None)
            continue
        if info["kind"] == "list":
            value = rf.parse_items(name, value, info)
            if not value and info.get("min_items"):
                raise ValueError(f"{rf.label(name)}: give at least one value")
        if value in (None, "", []) and (info["nullable"] or info["kind"] in ("list", "string")):
            base.pop(name, None)
            continue
        base[name] = value
    base.pop("pos_weight", None)
    base.pop("seed", None)
    sweep = {
        "pos_weight": parse_list(values.get("pos_weight"), float, FIELDS["pos_weight"][1]),
        **extra,
        "seed": parse_list(values.get("seed"), int, FIELDS["seed"][1]),
    }
    spec = {"name": (values.get("name") or "").strip(), "base": base, "sweep": sweep}
    tags = [t.strip() for t in (values.get("tags") or "").split(",") if t.strip()]  # the API checks and lowercases them
    return spec | {"tags": tags} if tags else spec


def limit_errors(values: dict, params: dict[str, dict], sweep: dict[str, list] | None = None) -> dict[str, str]:
    """{parameter: 'give ...'} for the fields that break the catalog's limits and are used: shown
    for the chosen (or swept) data, model and loss, and not swept themselves (the sweep box holds
    the values then)."""
    sweep = sweep or {}
    taken = rf.choices(values, sweep)
    out = {}
    for name, info in params.items():
        if name in values and name not in sweep and name not in rf.SWEEP_FIELDS and rf.relevant(name, taken):
            problem = rf.limit_error(info, values[name])
            if problem:
                out[name] = problem
    pairing = rf.pairing_error(values, sweep)
    if pairing and "model" not in sweep and "model" in params:
        out.setdefault("model", pairing)
    return out


def listed(values) -> str:
    return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)


def clone_values(source: dict | None) -> dict:
    """What a cloned experiment puts in the form: its base run, weights, seeds, other axes and tags."""
    if not source:
        return {}
    spec = source.get("spec") or {}
    sweep = dict(spec.get("sweep") or {})
    base = spec.get("base") or {}
    return {
        "base": base,
        "name": f"{source.get('name', 'experiment')} (copy)",
        "tags": ", ".join(source.get("tags") or []),
        "weights": listed(sweep.pop("pos_weight", [base.get("pos_weight", 1.0)])),
        "seeds": listed(sweep.pop("seed", [base.get("seed", 0)])),
        "axes": list(sweep.items())[: len(AXES)],
    }


def layout(client: ApiClient, source: int | None = None) -> html.Div:
    """The form; with `source` (an experiment id, `/new?from=7`) filled in from that experiment, to edit and resubmit."""
    warning = None
    clone = {}
    if source is not None:
        try:
            clone = clone_values(client.experiment(source))
        except ApiError as err:
            warning = dbc.Alert(f"Cannot clone experiment {source}: {err.message}", color="warning")
    try:
        catalog = client.catalog()
        schema, defaults, catalog_limits = catalog["run"], catalog["defaults"], catalog.get("limits")
    except ApiError as err:
        warning = dbc.Alert(f"Cannot load the catalog ({err.message}); showing built-in defaults.", color="warning")
        schema, defaults, catalog_limits = rf.FALLBACK_SCHEMA, {"base": FALLBACK}, None
    base = FALLBACK | defaults.get("base", {}) | clone.get("base", {})
    axes_values = clone.get("axes", [])
    fields = rf.describe(schema)
    params = axes.sweepable(schema)
    form = dbc.Form(
        [
            html.H5("Sweep", className="mt-1 mb-2 border-bottom pb-1"),
            dbc.Row(
                [
                    _group(
                        "name",
                        dbc.Input(
                            id=FIELDS["name"][0],
                            type="text",
                            value=clone.get("name", "weights-vs-epochs"),
                            maxLength=200,
                        ),
                        "a label for the list",
                    ),
                    _group(
                        "pos_weight",
                        dbc.Input(id=FIELDS["pos_weight"][0], type="text", value=clone.get("weights", "0.1, 1, 10")),
                        "comma-separated; importance weight of the positive class, the negative class keeps 1",
                    ),
                    _group(
                        "seed",
                        dbc.Input(id=FIELDS["seed"][0], type="text", value=clone.get("seeds", "0")),
                        "comma-separated; one run per weight and seed",
                    ),
                    _group(
                        "tags",
                        dbc.Input(
                            id=FIELDS["tags"][0],
                            type="text",
                            value=clone.get("tags", ""),
                            placeholder="e.g. paper, 2-d",
                        ),
                        "optional, comma-separated; the experiments list filters by them",
                    ),
                ],
                className="g-3",
            ),
            html.Details(
                [
                    html.Summary(
                        "More sweep axes: any run parameter, comma-separated values", className="text-muted mb-2"
                    ),
                    *[
                        dbc.Row(
                            [
                                dbc.Col(
                                    dbc.Select(
                                        id=pid,
                                        value=axis[0] if axis else "",
                                        placeholder="(no axis) pick a parameter",
                                        options=[{"label": "(none)", "value": ""}]
                                        + [
                                            {"label": f"{rf.label(name)} ({name}, {info['kind']})", "value": name}
                                            for name, info in sorted(params.items())
                                        ],
                                    ),
                                    md=4,
                                ),
                                dbc.Col(
                                    dbc.Input(
                                        id=vid,
                                        type="text",
                                        placeholder="e.g. 0, 0.01, 0.1",
                                        value=listed(axis[1]) if axis else None,
                                    ),
                                    md=8,
                                ),
                            ],
                            className="mb-2 g-2",
                        )
                        for (pid, vid), axis in zip(AXES, axes_values + [None] * (len(AXES) - len(axes_values)))
                    ],
                ],
                className="mb-2",
                id="sweep-builder",
                open=bool(axes_values),
            ),
            *run_form.sections({n: i for n, i in fields.items() if n not in rf.SWEEP_FIELDS}, base),
            html.Div(id="form-error"),
            confirm.modal("long", "Start a long experiment?", "Start it", color="primary"),
            html.Div(
                [
                    dbc.Button("Start experiment", id="submit", color="primary", size="lg", n_clicks=0),
                    html.Span(id="run-count", className="ms-3 text-muted"),
                ],
                className="d-flex align-items-center mt-3",
            ),
        ]
    )
    return html.Div(
        [
            html.H2("New experiment"),
            html.P(
                "Train one network per positive-class weight and seed (and any other swept parameter), and watch what the weights do.",
                className="text-muted",
            ),
            warning,
            dcc.Store(
                id="catalog-store",
                data={"params": params, "fields": fields, "limit": (catalog_limits or {}).get("runs_per_experiment")},
            ),
            dcc.Store(id="api-errors", data={}),
            dbc.Card(dbc.CardBody(form), className="shadow-sm"),
        ]
    )


def _group(field: str, control, help_text: str = "", width: int = 4):
    fid, label = FIELDS[field]
    return dbc.Col(
        [
            dbc.Label(label, html_for=fid, className="fw-semibold mb-1"),
            control,
            dbc.FormText(help_text) if help_text else None,
        ],
        md=width,
        className="mb-3",
    )


# Every run parameter's value and id, whatever the catalog lists: inputs and selects, then switches.
LONG_SECONDS = 3600  # a sweep estimated to train longer than this asks before it starts
RUN_VALUES = [
    Input({"type": run_form.FIELD, "name": ALL}, "value"),
    Input({"type": run_form.SWITCH, "name": ALL}, "value"),
]
RUN_IDS = [State({"type": run_form.FIELD, "name": ALL}, "id"), State({"type": run_form.SWITCH, "name": ALL}, "id")]


def run_values(values, switches, value_ids, switch_ids) -> dict:
    return {i["name"]: v for i, v in zip(value_ids, values)} | {
        i["name"]: bool(v) for i, v in zip(switch_ids, switches)
    }


def register(app, client: ApiClient) -> None:
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
        sweep = readable_axes(zip(axis_values[::2], axis_values[1::2]), (catalog or {}).get("params") or {})
        taken = rf.choices(form, sweep)
        return [{} if rf.relevant(g["name"], taken) else {"display": "none"} for g in group_ids]

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
        sweep = readable_axes(zip(axis_values[::2], axis_values[1::2]), catalog.get("params") or {})
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
                **extra_axes(zip(axis_values[::2], axis_values[1::2]), catalog.get("params") or {}),
                "seed": parse_list(seeds, int, "seeds"),
            }
        except ValueError as err:
            return html.Span(str(err), className="text-danger")
        # no time estimate from a value the form refuses (an epoch count of 0 trains nothing)
        invalid = [
            n
            for n in ("epochs", "n_train", "batch_size")
            if n in limit_errors(form, catalog.get("fields") or {}, sweep)
        ]
        if invalid:
            runs = math.prod(len(v) for v in sweep.values())
            return html.Span(
                f"{runs} run{'s' * (runs != 1)}; no time estimate while {', '.join(rf.label(n) for n in invalid)} is invalid",
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

    own = list(FIELDS)

    @app.callback(
        Output("form-error", "children", allow_duplicate=True),
        *[Input(FIELDS[f][0], "value") for f in own],
        *[Input(i, "value") for pair in AXES for i in pair],
        *RUN_VALUES,
        prevent_initial_call=True,
    )
    def clear_banner(*_values):
        """The banner spoke of the values submitted; once one changes it no longer holds (the fields' own messages stay)."""
        return []

    @app.callback(
        Output("url", "pathname"),
        Output("form-error", "children"),
        Output("api-errors", "data"),
        *[Output(FIELDS[f][0], "invalid") for f in own],
        *[Output(vid, "invalid") for _, vid in AXES],
        Output("long-modal", "is_open"),
        Output("long-body", "children"),
        Input("submit", "n_clicks"),
        Input("long-yes", "n_clicks"),
        *[State(FIELDS[f][0], "value") for f in own],
        *[State(i, "value") for pair in AXES for i in pair],
        *[State(v.component_id, v.component_property) for v in RUN_VALUES],
        *RUN_IDS,
        State("catalog-store", "data"),
        prevent_initial_call=True,
    )
    def submit(n_clicks, confirmed, *states):
        keep = dash.no_update
        if not n_clicks:  # the output (url) lives outside this page, so Dash calls this when the form appears
            return keep, keep, keep, *[keep] * (len(own) + len(AXES)), keep, keep
        catalog = states[-1] or {}
        fields = catalog.get("fields") or rf.describe(rf.FALLBACK_SCHEMA)
        pairs = list(
            zip(states[len(own) : len(own) + 2 * len(AXES) : 2], states[len(own) + 1 : len(own) + 2 * len(AXES) : 2])
        )
        values, switches, value_ids, switch_ids = states[len(own) + 2 * len(AXES) : -1]
        form = dict(zip(own, states[: len(own)])) | run_values(values, switches, value_ids, switch_ids)
        swept = {p for p, _ in pairs if p}

        def refuse(messages: list[str], bad: set[str], api_errors: dict | None = None):
            """The alert, the API's messages for the run fields, and red outlines on the form's own
            fields and the builder's value boxes (a swept parameter's box, not its unused base field)."""
            marks = [f in bad for f in own] + [bool(p) and p in bad for p, _ in pairs]
            return keep, _alert(messages), api_errors or {}, *marks, False, keep

        try:
            extra = extra_axes(pairs, catalog.get("params") or {})
            spec = build_spec(form, extra=extra, params=fields)
        except ValueError as err:
            bad = {f for f in own if str(err).startswith(FIELDS[f][1])} | {
                p for p, _ in pairs if p and str(err).startswith(f"{p}:")
            }
            listed = {n for n in fields if str(err).startswith(rf.label(n) + ":")}
            return refuse(
                [str(err)], bad, {n: {"message": str(err).partition(": ")[2], "value": form.get(n)} for n in listed}
            )
        problems = limit_errors(form, fields, extra)
        if problems:  # the inline messages already say so; the API would only repeat it
            return refuse([f"{rf.label(n)}: {m}" for n, m in problems.items()], set())
        seconds = axes.estimate_seconds(
            spec["sweep"],
            {name: form.get(name) or 1 for name in ("epochs", "n_train", "batch_size")}
            | {"model": form.get("model"), "width": form.get("width")},
        )
        if ctx.triggered_id != "long-yes" and seconds is not None and seconds > LONG_SECONDS:  # ask first
            runs = math.prod(len(v) for v in spec["sweep"].values())
            return (
                keep,
                None,
                keep,
                *[keep] * (len(own) + len(AXES)),
                True,
                confirm.facts(
                    [
                        html.Strong(
                            f"{runs} run{'s' * (runs != 1)}, about {axes.duration(seconds)[1:]} of training on one worker. "
                        )
                    ],
                    "Cancel it later from its page (Cancel experiment) or with `iwlab cancel`.",
                ),
            )
        try:
            exp = client.create_experiment(spec)
        except ApiError as err:
            if err.status != 422:
                return refuse([f"The API refused the experiment: {err.message}"], set())
            errors = describe_errors(err.detail, fields)
            bad = {f for f, _ in errors} | {
                p for p in swept if any(f"sweep.{p}" in m or m.startswith(f"{p}:") for _, m in errors)
            }
            on_fields = {
                f: {"message": m.partition(": ")[2], "value": form.get(f)}
                for f, m in errors
                if f in fields and f not in swept and f not in own
            }
            return refuse([m for _, m in errors], bad, on_fields)
        return f"/experiments/{exp['id']}", None, {}, *[False] * (len(own) + len(AXES)), False, keep

    @app.callback(
        Output("long-modal", "is_open", allow_duplicate=True), Input("long-no", "n_clicks"), prevent_initial_call=True
    )
    def back(clicks):
        return False if clicks else dash.no_update


def _alert(messages: list[str]) -> dbc.Alert:
    body = html.Ul([html.Li(m) for m in messages], className="mb-0 ps-3") if len(messages) > 1 else messages[0]
    return dbc.Alert([html.Strong("Not started. "), body], color="danger", id="form-error-alert", className="mt-2")
