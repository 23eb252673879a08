"""`/new`: the form for a 2-D weighting experiment. Defaults, choices and help come from `GET /catalog`;
besides the weights and seeds, up to three more sweep axes over any run parameter, with the run
count and a time estimate shown before submitting."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html

from ..client import ApiClient, ApiError
from ..components import sweep_builder as axes

# Form field -> (element id, label). Run parameters keep their API name; the two sweep lists differ.
FIELDS = {
    "name": ("field-name", "Name"),
    "dataset": ("field-dataset", "Data set"),
    "n_train": ("field-n_train", "Training points per class"),
    "noise": ("field-noise", "Noise"),
    "model": ("field-model", "Model"),
    "hidden": ("field-hidden", "Hidden widths"),
    "epochs": ("field-epochs", "Epochs"),
    "lr": ("field-lr", "Learning rate"),
    "batch_size": ("field-batch_size", "Batch size"),
    "weight_decay": ("field-weight_decay", "Weight decay"),
    "loss_norm": ("field-loss_norm", "Loss normalisation"),
    "pos_weight": ("field-weights", "Positive-class weights"),
    "seed": ("field-seeds", "Seeds"),
    "tags": ("field-tags", "Tags"),
}
BASE_FIELDS = ("dataset", "n_train", "noise", "model", "epochs", "lr", "batch_size", "weight_decay", "loss_norm")
FALLBACK = {
    "name": "weights-vs-epochs", "dataset": "blobs", "n_train": 100, "noise": 1.0, "model": "logreg", "hidden": [64],
    "epochs": 200, "lr": 0.03, "batch_size": 8, "weight_decay": 0.0, "loss_norm": "sum",
}
DATASETS_2D = ("blobs", "wang_gaussians", "moons")
MODELS_2D = ("logreg", "mlp")
LOSS_NORM_HELP = {"sum": "sum: divide by the batch's sum of weights", "mean": "mean: divide by the batch size"}


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


def describe_errors(detail) -> list[tuple[str | None, str]]:
    """FastAPI 422 detail -> [(form field or None, 'Label: message')]."""
    if not isinstance(detail, list):
        return [(None, str(detail))]
    out = []
    for err in detail:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body",)]
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        field = next((p for p in reversed(loc) if p in FIELDS), None)
        if field is None:  # model validators name the field in the message: "sweep.epochs: ..." or "classes: ..."
            name, _, rest = msg.removeprefix("sweep.").partition(":")
            if name in FIELDS and rest:
                field, msg = name, rest.strip()
        label = FIELDS[field][1] if field else ".".join(loc) or "spec"
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


def build_spec(values: dict, defaults: dict | None = None, extra: dict[str, list] | None = None) -> dict:
    """Form values -> ExperimentSpec JSON. Raises ValueError (naming the field) on unparsable lists.
    `extra` axes (from the sweep builder) join the weights and seeds, and leave the base run."""
    base = dict((defaults or {}).get("base", {}))
    for name in BASE_FIELDS:
        base[name] = values.get(name)
    if values.get("model") == "mlp":
        base["hidden"] = parse_list(values.get("hidden"), int, FIELDS["hidden"][1])
    base.pop("pos_weight", None)
    base.pop("seed", None)
    sweep = {
        "pos_weight": parse_list(values.get("pos_weight"), float, FIELDS["pos_weight"][1]),
        **(extra or {}),
        "seed": parse_list(values.get("seed"), int, FIELDS["seed"][1]),
    }
    for name in extra or {}:
        base.pop(name, None)
    spec = {"name": (values.get("name") or "").strip(), "base": base, "sweep": sweep}
    tags = [t.strip() for t in (values.get("tags") or "").split(",") if t.strip()]  # the API checks and lowercases them
    return spec | {"tags": tags} if tags else spec


def _help(schema: dict, name: str) -> str:
    return schema.get("properties", {}).get(name, {}).get("description", "")


def _enum(schema: dict, name: str, fallback: list[str]) -> list[str]:
    return schema.get("properties", {}).get(name, {}).get("enum", fallback)


def _group(field: str, control, help_text: str = "", width: int = 4):
    fid, label = FIELDS[field]
    return dbc.Col(
        [dbc.Label(label, html_for=fid, className="fw-semibold mb-1"), control, dbc.FormText(help_text) if help_text else None],
        md=width, className="mb-3",
    )


def _number(field: str, value, step="any"):
    return dbc.Input(id=FIELDS[field][0], type="number", value=value, step=step)  # no min: the API names out-of-range values


def layout(client: ApiClient) -> html.Div:
    warning = None
    try:
        catalog = client.catalog()
        schema, defaults, catalog_limits = catalog["run"], catalog["defaults"], catalog.get("limits")
    except ApiError as err:
        warning = dbc.Alert(f"Cannot load the catalog ({err.message}); showing built-in defaults.", color="warning")
        schema, defaults, catalog_limits = {}, {"base": FALLBACK}, None
    base = FALLBACK | defaults.get("base", {})
    # This page is for 2-D experiments (the ones with a boundary to draw); image sets come from `iwlab submit`.
    datasets = [d for d in _enum(schema, "dataset", list(DATASETS_2D)) if d in DATASETS_2D] or list(DATASETS_2D)
    models = [m for m in _enum(schema, "model", list(MODELS_2D)) if m in MODELS_2D] or list(MODELS_2D)
    norms = _enum(schema, "loss_norm", ["sum", "mean"])
    params = axes.sweepable(schema)
    for name, allowed in (("dataset", datasets), ("model", models)):  # this page stays 2-D
        if name in params:
            params[name]["enum"] = [v for v in params[name]["enum"] or [] if v in allowed]
    form = dbc.Form(
        [
            html.H5("Sweep", className="mt-1"),
            dbc.Row([
                _group("name", dbc.Input(id=FIELDS["name"][0], type="text", value="weights-vs-epochs", maxLength=200), "a label for the list"),
                _group("pos_weight", dbc.Input(id=FIELDS["pos_weight"][0], type="text", value="0.1, 1, 10"),
                       "comma-separated; importance weight of the positive class, the negative class keeps 1"),
                _group("seed", dbc.Input(id=FIELDS["seed"][0], type="text", value="0"), "comma-separated; one run per weight and seed"),
                _group("tags", dbc.Input(id=FIELDS["tags"][0], type="text", value="", placeholder="e.g. paper, 2-d"),
                       "optional, comma-separated; the experiments list filters by them"),
            ]),
            html.Div(
                [
                    html.Div("More sweep axes: any run parameter, comma-separated values", className="fw-semibold mb-1"),
                    *[
                        dbc.Row([
                            dbc.Col(dbc.Select(id=pid, value="", placeholder="(no axis) pick a parameter", options=[{"label": "(none)", "value": ""}] + [
                                {"label": f"{name} ({info['kind']})", "value": name} for name, info in sorted(params.items())]), md=4),
                            dbc.Col(dbc.Input(id=vid, type="text", placeholder="e.g. 0, 0.01, 0.1"), md=8),
                        ], className="mb-2 g-2")
                        for pid, vid in AXES
                    ],
                ],
                className="mb-3", id="sweep-builder",
            ),
            html.H5("Data", className="mt-2"),
            dbc.Row([
                _group("dataset", dbc.Select(id=FIELDS["dataset"][0], options=[{"label": d, "value": d} for d in datasets], value=base["dataset"]), _help(schema, "dataset")),
                _group("n_train", _number("n_train", base["n_train"], 1), _help(schema, "n_train")),
                _group("noise", _number("noise", base["noise"]), _help(schema, "noise")),
            ]),
            html.H5("Model and training", className="mt-2"),
            dbc.Row([
                _group("model", dbc.RadioItems(id=FIELDS["model"][0], options=[{"label": {"logreg": "logistic regression", "mlp": "MLP (ReLU)"}.get(m, m), "value": m} for m in models], value=base["model"], inline=True), _help(schema, "model")),
                dbc.Col(
                    [dbc.Label(FIELDS["hidden"][1], html_for=FIELDS["hidden"][0], className="fw-semibold mb-1"),
                     dbc.Input(id=FIELDS["hidden"][0], type="text", value=", ".join(str(w) for w in base["hidden"])),
                     dbc.FormText("comma-separated widths of the hidden layers")],
                    md=4, className="mb-3", id="hidden-group",
                ),
            ]),
            dbc.Row([
                _group("epochs", _number("epochs", base["epochs"], 1), _help(schema, "epochs"), 3),
                _group("lr", _number("lr", base["lr"]), _help(schema, "lr"), 3),
                _group("batch_size", _number("batch_size", base["batch_size"], 1), _help(schema, "batch_size"), 3),
                _group("weight_decay", _number("weight_decay", base["weight_decay"]), _help(schema, "weight_decay"), 3),
            ]),
            dbc.Row([
                _group("loss_norm", dbc.Select(id=FIELDS["loss_norm"][0], options=[{"label": LOSS_NORM_HELP.get(n, n), "value": n} for n in norms], value=base["loss_norm"]), "", 6),
            ]),
            html.Div(id="form-error"),
            html.Div(
                [
                    dbc.Button("Start experiment", id="submit", color="primary", size="lg", n_clicks=0),
                    html.Span(id="run-count", className="ms-3 text-muted"),
                ],
                className="d-flex align-items-center mt-2",
            ),
        ]
    )
    return html.Div(
        [
            html.H2("New experiment"),
            html.P("Train one small network per positive-class weight and seed on 2-D data, and watch the boundary move.", className="text-muted"),
            warning,
            dcc.Store(id="catalog-store", data={"params": params, "limit": (catalog_limits or {}).get("runs_per_experiment")}),
            dbc.Card(dbc.CardBody(form), className="shadow-sm"),
        ]
    )


def register(app, client: ApiClient) -> None:
    @app.callback(Output("hidden-group", "style"), Input(FIELDS["model"][0], "value"))
    def toggle_hidden(model):
        return {} if model == "mlp" else {"display": "none"}

    @app.callback(
        Output("run-count", "children"),
        Input(FIELDS["pos_weight"][0], "value"),
        Input(FIELDS["seed"][0], "value"),
        *[Input(i, "value") for pair in AXES for i in pair],
        *[Input(FIELDS[f][0], "value") for f in ("epochs", "n_train", "batch_size")],
        State("catalog-store", "data"),
    )
    def run_count(weights, seeds, *rest):
        *axis_values, epochs, n_train, batch_size, catalog = rest
        catalog = catalog or {}
        try:
            sweep = {"pos_weight": parse_list(weights, float, "weights"),
                     **extra_axes(zip(axis_values[::2], axis_values[1::2]), catalog.get("params") or {}), "seed": parse_list(seeds, int, "seeds")}
        except ValueError as err:
            return html.Span(str(err), className="text-danger")
        base = {"epochs": epochs or 1, "n_train": n_train or 1, "batch_size": batch_size or 1}
        return axes.summary({("weights" if k == "pos_weight" else "seeds" if k == "seed" else k): v for k, v in sweep.items()}, base, catalog.get("limit"))

    order = list(FIELDS)

    @app.callback(
        Output("url", "pathname"),
        Output("form-error", "children"),
        *[Output(FIELDS[f][0], "invalid") for f in order if f != "model"],
        *[Output(vid, "invalid") for _, vid in AXES],
        Input("submit", "n_clicks"),
        *[State(FIELDS[f][0], "value") for f in order],
        *[State(i, "value") for pair in AXES for i in pair],
        State("catalog-store", "data"),
        prevent_initial_call=True,
    )
    def submit(n_clicks, *values):
        fields = [f for f in order if f != "model"]
        values, catalog = values[:-1], values[-1] or {}
        pairs = list(zip(values[len(order)::2], values[len(order) + 1::2]))
        if not n_clicks:  # the output (url) lives outside this page, so Dash calls this when the form appears
            return dash.no_update, dash.no_update, *[dash.no_update] * (len(fields) + len(AXES))
        form = dict(zip(order, values))

        swept = {p for p, _ in pairs if p}

        def marks(bad: set[str]) -> list[bool]:
            """Fields, then the builder's value boxes, outlined red where `bad` names them (a swept
            parameter's box, not its unused base field)."""
            return [f in bad and f not in swept for f in fields] + [bool(p) and p in bad for p, _ in pairs]

        try:
            spec = build_spec(form, extra=extra_axes(pairs, catalog.get("params") or {}))
        except ValueError as err:
            bad = {f for f in FIELDS if str(err).startswith(FIELDS[f][1])} | {p for p, _ in pairs if p and str(err).startswith(f"{p}:")}
            return dash.no_update, _alert([str(err)]), *marks(bad)
        try:
            exp = client.create_experiment(spec)
        except ApiError as err:
            if err.status == 422:
                errors = describe_errors(err.detail)
                bad = {f for f, _ in errors} | {p for p in swept if any(f"sweep.{p}" in m or m.startswith(f"{p}:") for _, m in errors)}
                return dash.no_update, _alert([m for _, m in errors]), *marks(bad)
            return dash.no_update, _alert([f"The API refused the experiment: {err.message}"]), *marks(set())
        return f"/experiments/{exp['id']}", None, *marks(set())


def _alert(messages: list[str]) -> dbc.Alert:
    body = html.Ul([html.Li(m) for m in messages], className="mb-0 ps-3") if len(messages) > 1 else messages[0]
    return dbc.Alert([html.Strong("Not started. "), body], color="danger", id="form-error-alert", className="mt-2")
