"""The dashboard: a Dash app that reads and writes through the REST API only.

`create_app(api_url)` builds a fresh app (no module-level registry), so tests and the CLI can make
several. Pages are routed by a `dcc.Location`; the URL carries their state
(`/experiments/7?seed=1&epoch=12&logx=1`), so a link reproduces a view.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html

from . import auth, downloads
from .client import ApiClient
from .components import actions, cancel, liveness, title, verdict
from .pages import compare, datasets, experiment, experiments, new, presets, run, workers

# Bootswatch Flatly 5.3.8 is vendored in assets/ (MIT, see assets/BOOTSWATCH-LICENSE.txt) rather than
# loaded from a CDN (dbc.themes.FLATLY): lab machines and CI are often offline.
THEME = "assets/00-bootswatch-flatly-5.3.8.min.css"


def navbar(login: bool = False) -> dbc.Navbar:
    return dbc.Navbar(
        dbc.Container(
            [
                dcc.Link(
                    [
                        html.Span("iwlab", className="fw-bold fs-4 me-2"),
                        html.Span("importance weights, epoch by epoch", className="small opacity-75"),
                    ],
                    href="/",
                    className="navbar-brand text-white text-decoration-none",
                ),
                dbc.Nav(
                    [
                        dbc.NavItem(dcc.Link("Presets", href="/", className="nav-link", id="nav-presets")),
                        dbc.NavItem(
                            dcc.Link("Experiments", href="/experiments", className="nav-link", id="nav-experiments")
                        ),
                        dbc.NavItem(dcc.Link("Compare", href="/compare", className="nav-link", id="nav-compare")),
                        dbc.NavItem(dcc.Link("New experiment", href="/new", className="nav-link", id="nav-new")),
                        dbc.NavItem(dcc.Link("Workers", href="/workers", className="nav-link", id="nav-workers")),
                        dbc.NavItem(dcc.Link("Datasets", href="/datasets", className="nav-link", id="nav-datasets")),
                        *(
                            [
                                dbc.NavItem(
                                    html.Form(
                                        html.Button("Log out", className="btn btn-link nav-link", id="logout"),
                                        method="POST",
                                        action="/logout",
                                    )
                                )
                            ]
                            if login
                            else []
                        ),
                    ],
                    navbar=True,
                    className="ms-auto",
                ),
            ],
            fluid="xl",
        ),
        color="primary",
        dark=True,
        className="mb-4",
    )


def query(search: str | None) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs((search or "").lstrip("?")).items()}


TITLES = {
    "/": "Presets",
    "/presets": "Presets",
    "/experiments": "Experiments",
    "/new": "New experiment",
    "/workers": "Workers",
    "/compare": "Compare",
}


def not_found(pathname: str) -> html.Div:
    return dbc.Alert(
        [
            html.H4("Page not found"),
            html.P(f"Nothing lives at {pathname}. "),
            dcc.Link("Back to the experiments", href="/experiments"),
        ],
        color="warning",
    )


def create_app(
    api_url: str,
    poll_seconds: float = 2.0,
    token: str | None = None,
    login: bool = False,
    secret: str | None = None,
    sessions_url: str | None = None,
) -> dash.Dash:
    """`login`: members sign in and the API sees each one (lab mode); otherwise the dashboard acts
    as the embedded local user or as the account of the fixed `token`."""
    client = ApiClient(api_url, token_of_request=auth.current_token) if login else ApiClient(api_url, token=token)
    app = dash.Dash(
        __name__,
        external_stylesheets=[],  # the theme and iwlab.css are served from assets/
        suppress_callback_exceptions=True,  # page components appear only after routing
        title="iwlab",
        update_title=None,  # type: ignore[arg-type]  # documented as the way to keep the title; Dash types it str
        # Plotly's 4.8 MB script loads with the page, while the first callback is on the server,
        # instead of after it returns the first graph (a serial ~0.5-1 s, bench/dashboard.py)
        eager_loading=True,
    )
    app.layout = html.Div(
        [
            dcc.Location(id="url", refresh=False),
            navbar(login),
            dbc.Container(liveness.slots(), fluid="xl"),
            dbc.Container(id="page", fluid="xl", className="pb-5"),
        ]
    )

    @app.callback(Output("page", "children"), Input("url", "pathname"), State("url", "search"))
    def route(pathname: str | None, search: str | None):
        """The page for a path; every page carries its tab title (`page-title`): the experiment and
        run pages their own (the experiment's name, the run), the others one from TITLES."""
        pathname = (pathname or "/").rstrip("/") or "/"
        page = page_for(pathname, search)
        if re.fullmatch(r"/(experiments|runs)/\d+", pathname):
            return page
        return [page, *title.slots(TITLES.get(pathname, "Not found"))]

    def page_for(pathname: str, search: str | None):
        if pathname in ("/", "/presets"):  # home: the gallery, one click from a reproduction
            return presets.layout(client)
        if pathname == "/experiments":
            return experiments.layout(client, poll_seconds, query(search))
        if pathname == "/new":
            source = query(search).get("from")
            return new.layout(client, int(source) if source and source.isdigit() else None)
        if pathname == "/workers":
            return workers.layout(client, poll_seconds)
        if pathname == "/datasets":
            return datasets.layout(client)
        if pathname == "/compare":
            return compare.layout(client, query(search))
        m = re.fullmatch(r"/experiments/(\d+)", pathname)
        if m:
            return experiment.layout(client, int(m.group(1)), query(search), poll_seconds)
        m = re.fullmatch(r"/runs/(\d+)", pathname)
        if m:
            return run.layout(client, int(m.group(1)), query(search), poll_seconds)
        return not_found(pathname)

    experiments.register(app, client)
    new.register(app, client)
    presets.register(app, client)
    experiment.register(app, client)
    workers.register(app, client)
    datasets.register(app, client)
    run.register(app, client)
    compare.register(app, client)
    actions.register(app, client)
    cancel.register(app, client)
    liveness.register(app, client)
    verdict.register(app, client)
    title.register(app)
    downloads.register(app.server, client)
    app.server.config["IWLAB_API_URL"] = api_url
    if login:
        auth.install(app.server, api_url, THEME, secret, sessions_url)
    return app
