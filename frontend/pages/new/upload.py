"""Uploading a dataset from the form: the file goes to the lab's dataset store (as on the Datasets
page) and the form's dataset_id takes its id."""

from __future__ import annotations

import dash
from dash import Input, Output, State

from ...client import ApiClient
from ...components import run_form
from ..datasets import upload


def register(app, client: ApiClient) -> None:
    @app.callback(
        Output(run_form.field_id("dataset_id"), "value"),
        Output(run_form.UPLOAD_MSG, "children"),
        Input(run_form.UPLOAD, "contents"),
        State(run_form.UPLOAD, "filename"),
        State(run_form.field_id("label_column"), "value"),
        prevent_initial_call=True,
    )
    def store(encoded, filename, label_column):
        if not encoded:
            return dash.no_update, dash.no_update
        row, message = upload(client, encoded, filename or "upload", label_column)
        return (row["id"] if row else dash.no_update), message
