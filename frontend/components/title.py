"""The tab's title per page ('digits weights · iwlab', 'Run #12 · iwlab'): each page carries
`slots(text)`, and a clientside callback sets document.title from it. The sink sits beside the
title in the page because Dash fires a callback for inputs a page brings in only with its outputs;
and no server callback may write `page-title` (Dash then never fires this one on a page without it)."""

from __future__ import annotations

from dash import Input, Output, dcc

SUFFIX = " · iwlab"


def slots(text: str) -> list:
    return [dcc.Store(id="page-title", data=text + SUFFIX), dcc.Store(id="title-sink")]


def register(app) -> None:
    app.clientside_callback(
        "function(title) { if (title) { document.title = title; } return title; }",
        Output("title-sink", "data"),
        Input("page-title", "data"),
    )
