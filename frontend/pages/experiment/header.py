"""The experiment page's header: name, status, progress, owner, tags and the actions on it."""

from __future__ import annotations

from dash import dcc, html

from ...components.compare import MAX_RUNS, tray_search
from ...components.exports import export_bar
from ...components.tables import count_summary, progress_bar, status_badge, sweep_summary


def header(exp: dict, api_url: str, fmt: str = "png", run_ids: list[int] | None = None, notice=None) -> html.Div:
    base = exp["spec"].get("base", {})
    facts = " · ".join(
        s
        for s in (
            f"#{exp['id']}",
            base.get("dataset"),
            base.get("model") + (f" {base.get('hidden')}" if base.get("model") == "mlp" else ""),
            f"{base.get('epochs')} epochs",
            f"lr {base.get('lr')}",
            f"batch {base.get('batch_size')}",
            f"wd {base.get('weight_decay')}",
            f"loss {base.get('loss_norm')}",
            sweep_summary(exp["spec"]),
        )
        if s
    )
    return html.Div(
        [
            html.Div(
                [
                    html.Div(
                        [
                            html.Div([dcc.Link("← Experiments", href="/experiments", className="small")]),
                            html.H2([exp["name"], " ", status_badge(exp["status"], id="exp-status")], className="mb-1"),
                            html.Div(facts, className="text-muted small"),
                            export_bar(exp, api_url, fmt),
                        ]
                    ),
                    html.Div(
                        [
                            progress_bar(exp["progress"], f"{exp['progress']:.0%}", exp["status"], id="exp-progress"),
                            html.Div(
                                f"{exp['runs_total']} runs: {count_summary(exp['status_counts'])}",
                                className="small text-muted mt-1 text-end",
                            ),
                            html.Div(
                                dcc.Link(
                                    "Compare these runs →",
                                    href="/compare" + tray_search((run_ids or [])[:MAX_RUNS]),
                                    id="compare-runs",
                                    className="small",
                                ),
                                className="text-end",
                            ),
                            html.Div(
                                dcc.Link(
                                    "Clone into the form →",
                                    href=f"/new?from={exp['id']}",
                                    id="clone-link",
                                    className="small",
                                ),
                                className="text-end",
                            ),
                        ],
                        style={"minWidth": "18rem"},
                    ),
                ],
                className="d-flex justify-content-between align-items-end gap-4 flex-wrap",
            ),
            notice,
        ]
    )
