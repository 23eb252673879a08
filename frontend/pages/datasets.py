"""`/datasets`: the lab's dataset store. Upload a table (CSV, Parquet, NPZ) or an image archive
(.tar.gz of `<split>/<class>/*.jpg`), see what each holds (rows, columns, class counts; classes and
images per split), the id a spec names it by (`dataset_id`), and delete your own (admins: any)."""

from __future__ import annotations

import base64
import binascii

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, dcc, html

from ..client import ApiClient, ApiError


def layout(client: ApiClient) -> html.Div:
    return html.Div(
        [
            html.H2("Datasets", className="mb-0"),
            html.Div(
                "Files stored in the lab, once per content, for every worker to read. A spec names one by its id "
                "(dataset_id); on a lab server, data_path names one of the registered folders below.",
                className="text-muted mb-3",
            ),
            dbc.Card(
                dbc.CardBody(
                    [
                        dcc.Upload(
                            id="datasets-upload",
                            children=html.Div(
                                [
                                    "Drop a CSV, Parquet or NPZ table or a .tar.gz image archive here, or ",
                                    html.A("choose a file"),
                                ]
                            ),
                            className="border border-2 rounded p-4 text-center text-muted",
                            style={"borderStyle": "dashed"},
                        ),
                        dbc.InputGroup(
                            [
                                dbc.InputGroupText("Label column"),
                                dbc.Input(
                                    id="datasets-label",
                                    placeholder="label, y, target or class when empty",
                                    maxLength=200,
                                ),
                            ],
                            size="sm",
                            className="mt-2",
                        ),
                    ]
                ),
                className="shadow-sm mb-3",
            ),
            html.Div(id="datasets-msg"),
            dbc.Card(dbc.CardBody(id="datasets-body", children=datasets_view(client)), className="shadow-sm"),
        ]
    )


def contents(d: dict) -> str:
    """What a dataset holds, in a line; a number the store could not read is named as missing."""
    s = d["summary"]
    if d["kind"] == "location":
        return f"folder on the workers: {d['path']}"
    if d["kind"] == "images":
        per_split = ", ".join(f"{split} {sum(counts.values())}" for split, counts in s["images"].items())
        return f"{len(s['classes'])} classes ({', '.join(s['classes'][:10])}); images: {per_split}"
    if s.get("rows") is None:
        return s.get("missing", "")
    line = f"{s['rows']:,} rows × {len(s['columns'])} columns"
    if s.get("class_counts"):
        line += f"; {s['label_column']}: " + ", ".join(f"{k} {v:,}" for k, v in s["class_counts"].items())
    elif s.get("missing"):
        line += f"; {s['missing']}"
    return line


def size(n: int | None) -> str:
    if n is None:
        return "—"
    if n < 1000:
        return f"{n} B"
    return f"{n / 1e3:,.1f} KB" if n < 1e6 else f"{n / 1e6:,.1f} MB"


def datasets_table(items: list[dict]) -> dbc.Table:
    header = html.Thead(html.Tr([html.Th(h) for h in ("Id", "Name", "Kind", "Size", "Contents", "")]))
    rows = [
        html.Tr(
            [
                html.Td(
                    html.Code(f"dataset_id: {d['id']}")
                    if d["kind"] != "location"
                    else html.Code(f"data_path: {d['name']}")
                ),
                html.Td(d["name"], className="fw-semibold"),
                html.Td(d["kind"]),
                html.Td(size(d["size"]), className="text-nowrap"),
                html.Td(contents(d), className="small"),
                html.Td(
                    dbc.Button(
                        "Delete",
                        id={"type": "dataset-delete", "id": d["id"]},
                        size="sm",
                        color="danger",
                        outline=True,
                        className="py-0",
                        title="owners and admins",
                    ),
                    className="text-end",
                ),
            ],
            id={"type": "dataset-row", "id": d["id"]},
        )
        for d in items
    ]
    return dbc.Table(
        [header, html.Tbody(rows)], hover=True, responsive=True, className="align-middle mb-0", id="datasets-table"
    )


def datasets_view(client: ApiClient):
    try:
        items = client.datasets()
    except ApiError as err:
        return dbc.Alert(f"Cannot load the datasets: {err.message}", color="danger", className="mb-0")
    if not items:
        return html.Div(
            "No datasets yet: upload one above, or `iwlab data add FILE`.",
            className="text-muted text-center py-4",
            id="datasets-empty",
        )
    return datasets_table(items)


def error_text(err: ApiError) -> str:
    if isinstance(err.detail, list) and err.detail and isinstance(err.detail[0], dict):
        first = err.detail[0]
        return f"{'.'.join(str(p) for p in first.get('loc', [])[1:]) or 'file'}: {first.get('msg')}"
    return err.message


def upload(client: ApiClient, encoded: str, filename: str, label_column: str | None) -> tuple[dict | None, dbc.Alert]:
    """Store what dcc.Upload hands over (`encoded`: a data: URL, base64): the stored dataset (None
    when it was refused) and what to tell the member."""
    try:
        data = base64.b64decode(encoded.split(",", 1)[1], validate=True)
    except (IndexError, binascii.Error):
        return None, dbc.Alert(
            f"{filename}: the browser sent no readable file", color="danger", dismissable=True, className="py-2"
        )
    try:
        row = client.upload_dataset(filename, data, label_column or None)
    except ApiError as err:
        return None, dbc.Alert(
            f"{filename} was not stored: {error_text(err)}", color="danger", dismissable=True, className="py-2"
        )
    return row, dbc.Alert(
        f"Stored {row['name']} as dataset_id: {row['id']} ({contents(row)}).",
        color="success",
        dismissable=True,
        className="py-2",
    )


def register(app, client: ApiClient) -> None:
    @app.callback(
        Output("datasets-msg", "children"),
        Output("datasets-body", "children"),
        Input("datasets-upload", "contents"),
        Input({"type": "dataset-delete", "id": ALL}, "n_clicks"),
        State("datasets-upload", "filename"),
        State("datasets-label", "value"),
        prevent_initial_call=True,
    )
    def change(encoded, _clicks, filename, label_column):
        if ctx.triggered_id == "datasets-upload":
            if not encoded:
                return dash.no_update, dash.no_update
            return upload(client, encoded, filename or "upload", label_column)[1], datasets_view(client)
        if not ctx.triggered_id or not ctx.triggered[0]["value"]:
            return dash.no_update, dash.no_update  # the buttons just (re)appeared with the table
        dataset_id = ctx.triggered_id["id"]
        try:
            client.delete_dataset(dataset_id)
        except ApiError as err:
            return dbc.Alert(
                f"Could not delete dataset {dataset_id}: {err.message}",
                color="danger",
                dismissable=True,
                className="py-2",
            ), dash.no_update
        return dbc.Alert(
            f"Dataset {dataset_id} deleted.", color="info", dismissable=True, className="py-2"
        ), datasets_view(client)
