"""The form's layout: the sweep row, the sweep builder, the run parameters in sections (run_form),
the stores the callbacks read, and the submit button; filled in from a cloned experiment on request."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from ...client import ApiClient, ApiError
from ...components import confirm, run_form
from ...components import run_fields as rf
from ...components import sweep_builder as axes
from .spec import AXES, FALLBACK, FIELDS, clone_values, listed, own_label


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
                        fields=fields,
                    ),
                    _group(
                        "seed",
                        dbc.Input(id=FIELDS["seed"][0], type="text", value=clone.get("seeds", "0")),
                        "comma-separated; one run per weight and seed",
                        fields=fields,
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
                                            {
                                                "label": f"{rf.label(fields, name)} ({name}, {info['kind']})",
                                                "value": name,
                                            }
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
            *run_form.sections(fields, rf.section_titles(schema), base),
            # the upload sits beside dataset_id; without it (no catalog) its callback still finds it
            *([] if "dataset_id" in fields else [html.Div(run_form.upload_box(), style={"display": "none"})]),
            html.Div(id="form-error"),
            confirm.modal("long", "Start a long experiment?", "Start it", color="primary"),
            html.Div(
                [
                    # type=button: a click never submits the <form>, so the browser never runs its
                    # own validation (a bubble over the field's message); the page's callback submits
                    dbc.Button("Start experiment", id="submit", type="button", color="primary", size="lg", n_clicks=0),
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


def _group(field: str, control, help_text: str = "", width: int = 4, fields: dict[str, dict] | None = None):
    fid, label = FIELDS[field][0], own_label(field, fields or {})
    return dbc.Col(
        [
            dbc.Label(label, html_for=fid, className="fw-semibold mb-1"),
            control,
            dbc.FormText(help_text) if help_text else None,
        ],
        md=width,
        className="mb-3",
    )
