"""The new-experiment form's run parameters as Dash controls, one per catalog parameter, grouped in
sections with the advanced ones folded away. Ids are pattern-matching dicts so the page's callbacks
serve whatever parameters the catalog lists."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from . import run_fields as rf

FIELD = "run-field"  # inputs and selects: they have `invalid`
SWITCH = "run-switch"  # booleans
GROUP = "run-group"  # label + control + messages, hidden when the parameter does not matter
FEEDBACK = "run-feedback"  # the inline message under a FIELD


def field_id(name: str) -> dict:
    return {"type": FIELD, "name": name}


def control(name: str, info: dict, value):
    """Select for choices, switch for booleans, number input (its limits checked by the page), text
    input for lists (comma-separated) and free strings."""
    if info["kind"] == "boolean":
        return dbc.Switch(id={"type": SWITCH, "name": name}, value=bool(value), label=info["label"], className="mb-0")
    if info["enum"]:
        labels = info["options"]
        return dbc.Select(
            id=field_id(name), options=[{"label": labels.get(v, v), "value": v} for v in info["enum"]], value=value
        )
    if info["kind"] == "list":
        text = ", ".join(str(v) for v in value or [])
        return dbc.Input(
            id=field_id(name),
            type="text",
            value=text,
            placeholder="default for the data set" if info["start_empty"] else None,
        )
    if info["kind"] in ("integer", "number"):
        # No min/max/step (nor required): the browser would raise its own tooltip over the page's one
        # message per field, and a number input outside them reports no value, which reads as "off"
        # for an optional field. The page checks the catalog's limits as you type (`limit_error`).
        return dbc.Input(id=field_id(name), type="number", value=value, step="any",
                         placeholder="off" if info["nullable"] else None)  # fmt: skip
    return dbc.Input(
        id=field_id(name), type="text", value=value or "", maxLength=info.get("maxLength"), placeholder="default"
    )


UPLOAD = "form-upload"  # beside dataset_id: store a file in the lab and name it here
UPLOAD_MSG = "form-upload-msg"


def group(name: str, info: dict, value, shown: bool = True, width: int = 4) -> dbc.Col:
    ctl = control(name, info, value)
    if name == "dataset_id":
        ctl = html.Div([ctl, upload_box()])
    head = [] if info["kind"] == "boolean" else [dbc.Label(info["label"], className="fw-semibold mb-1")]
    feedback = (
        [] if info["kind"] == "boolean" else [dbc.FormFeedback(id={"type": FEEDBACK, "name": name}, type="invalid")]
    )
    help_text = [dbc.FormText(info["description"])] if info["description"] else []
    return dbc.Col([*head, ctl, *feedback, *help_text], md=width, className="mb-3", id={"type": GROUP, "name": name},
                   style={} if shown else {"display": "none"})  # fmt: skip


def upload_box() -> html.Div:
    return html.Div(
        [
            dcc.Upload(
                id=UPLOAD,
                children=html.Span(["or ", html.A("upload a table or an image archive"), " to the lab"]),
                className="small text-muted mt-1",
            ),
            html.Div(id=UPLOAD_MSG, className="small"),
        ]
    )


def sections(params: dict[str, dict], titles: dict[str, str], base: dict) -> list:
    """One heading per section (`titles`: rf.section_titles), its main parameters in a row, the
    advanced ones under a fold."""
    out: list[Any] = []
    taken = rf.choices(params, base)  # drawn as the page's callback would show it, so nothing flashes up at load
    for section, (shown, advanced) in rf.placed(params, titles).items():
        value = lambda n: None if params[n]["start_empty"] else base.get(n, params[n]["default"])  # noqa: E731
        out.append(html.H5(titles[section], className="mt-3 mb-2 border-bottom pb-1"))
        if shown:
            out.append(
                dbc.Row([group(n, params[n], value(n), rf.relevant(params, n, taken)) for n in shown], className="g-3")
            )
        if advanced:
            out.append(html.Details(
                [html.Summary(("More options: " if shown else "Options: ") + ", ".join(params[n]["label"] for n in advanced), className="text-muted mb-2"),
                 dbc.Row([group(n, params[n], value(n), rf.relevant(params, n, taken)) for n in advanced], className="g-3")],
                id=f"advanced-{section}", className="mb-2",
            ))  # fmt: skip
    return out
