"""Every page notices a lost server: every few seconds the browser asks the dashboard whether it and
the API answer, and a banner says which one is gone (and goes away when it is back). The pages keep
what they last loaded meanwhile. The question is asked from the browser (a clientside callback),
because a dashboard that has stopped can no longer answer a server-side callback."""

from __future__ import annotations

import flask
from dash import Input, Output, dcc, html

from ..client import ApiClient, ApiError

PATH = "/_iwlab/alive"
EVERY_MS = 4000
HIDDEN = "d-none"

CHECK = """
async function(_n) {
    const hidden = ["", "%(hidden)s"];
    const banner = "alert alert-danger py-2 mb-3";
    let answer;
    try {
        answer = await fetch("%(path)s", {cache: "no-store"});
    } catch (e) {
        return ["The dashboard server is not answering (stopped?). This page shows what it last loaded; " +
                "reload it once the server is back.", banner];
    }
    let body;
    try { body = await answer.json(); } catch (e) { return hidden; }  // e.g. the login page: signed out
    if (body.api) { return hidden; }
    return ["The API is not answering (" + body.message + "). This page shows what it last loaded and " +
            "catches up when the API is back.", banner];
}
""".replace("%(path)s", PATH).replace("%(hidden)s", HIDDEN)


def slots() -> list:
    return [dcc.Interval(id="alive-poll", interval=EVERY_MS), html.Div(id="alive-banner", className=HIDDEN)]


def register(app, client: ApiClient) -> None:
    @app.server.get(PATH)
    def alive():
        try:
            client.health()
        except ApiError as err:
            return flask.jsonify(api=False, message=err.message)
        return flask.jsonify(api=True)

    app.clientside_callback(
        CHECK,
        Output("alive-banner", "children"),
        Output("alive-banner", "className"),
        Input("alive-poll", "n_intervals"),
    )
