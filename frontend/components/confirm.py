"""A question before a click that costs something (hours of compute, the last worker, a whole
experiment's runs): a modal that says what will happen, with the action and a way back.

Ids: `{prefix}-modal`, `{prefix}-body` (the page fills in the details), `{prefix}-yes`, `{prefix}-no`."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html


def modal(prefix: str, title: str, yes: str, color: str = "danger") -> dbc.Modal:
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle(title)),
            dbc.ModalBody(id=f"{prefix}-body"),
            dbc.ModalFooter(
                [
                    dbc.Button("Back", id=f"{prefix}-no", color="secondary", outline=True, n_clicks=0),
                    dbc.Button(yes, id=f"{prefix}-yes", color=color, n_clicks=0),
                ]
            ),
        ],
        id=f"{prefix}-modal",
        is_open=False,
        centered=True,
    )


def facts(*lines) -> list:
    return [html.P(line, className="mb-2") for line in lines if line]
