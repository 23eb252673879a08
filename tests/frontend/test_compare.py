"""The compare page's pure parts: the tray in the URL, the config diff, overlaid figures."""

from frontend.components.compare import (
    MAX_RUNS,
    config_diff,
    overlay_boundaries,
    overlay_curves,
    parse_tray,
    run_label,
    tray_search,
)

from .conftest import make_run
from .test_figures import panel, roles


def test_the_tray_round_trips_through_the_url_and_ignores_junk():
    assert parse_tray("12,7, 7,x,-3,0,,1") == [12, 7, 1]
    assert parse_tray(None) == [] and parse_tray("") == []
    assert len(parse_tray(",".join(str(i) for i in range(1, 100)))) == MAX_RUNS
    assert tray_search([12, 7, 1], metric="acc", logx=None) == "?runs=12,7,1&metric=acc"
    assert parse_tray(tray_search([3, 9])[len("?runs=") :]) == [3, 9]
    assert tray_search([]) == ""


def test_config_diff_lists_only_what_differs_and_the_experiment_when_mixed():
    a = make_run(1, 0, 0.1, 0)
    b = make_run(2, 1, 10.0, 0, lr=0.5) | {"experiment_id": 2}
    columns, rows = config_diff([a, b], {1: "fade", 2: "other"})
    assert columns == ["#1", "#2"]
    assert rows == [["experiment", "#1 fade", "#2 other"], ["pos_weight", "0.1", "10"], ["lr", "0.03", "0.5"]]
    assert config_diff([a, a | {"id": 3}], {})[1] == []
    assert run_label(b, ["experiment", "pos_weight", "lr"]) == "#2 (w=10, lr=0.5, seed=0)"
    assert run_label(make_run(4, 0, 1.0, 3), []) == "#4 (seed=3)"  # runs that differ only in the seed still read apart


def test_overlays_draw_one_line_and_one_contour_per_run():
    fig = overlay_curves(
        [
            {"label": "#1", "epoch": [0, 1, 2], "value": [0.1, 0.2, 0.3]},
            {"label": "#2", "epoch": [0, 1], "value": [0.5, 0.4]},
        ],
        "acc",
        "test",
        logx=True,
    )
    lines = roles(fig, "compare-curve")
    assert [t.name for t in lines] == ["#1", "#2"] and list(lines[0].x) == [1, 2] and fig.layout.xaxis.type == "log"
    assert (
        "No test acc"
        in overlay_curves([{"label": "#1", "epoch": [], "value": []}], "acc", "test", False).layout.annotations[0].text
    )
    fig = overlay_boundaries([panel("#1"), panel("#2"), panel("#3", z=None) | {"z": None}], epoch=7)
    contours = roles(fig, "compare-boundary")
    assert [t.name for t in contours] == ["#1", "#2"] and all(len(t.x) > 0 for t in contours)
    assert contours[0].line.color != contours[1].line.color
    assert "epoch 7" in fig.layout.title.text
    assert "No boundary frames" in overlay_boundaries([], 3).layout.annotations[0].text


def test_boundaries_are_drawn_over_each_runs_own_data_and_never_over_an_image_strip():
    same = overlay_boundaries([panel("#1"), panel("#2")], epoch=1)
    assert len(roles(same, "compare-points")) == 2  # shared data: its two classes, once
    other = panel("#3") | {"points": [[p[0] + 5, p[1], p[2]] for p in panel("#3")["points"]]}
    mixed = overlay_boundaries([panel("#1"), other], epoch=1)
    points = roles(mixed, "compare-points")
    assert len(points) == 4 and {t.name for t in points} == {
        "negative class of #1",
        "positive class of #1",
        "negative class of #3",
        "positive class of #3",
    }
    strip = panel("#4") | {"ys": [0.0], "z": [[0.2, 0.7]], "xs": [3.0, 9.0]}
    assert "No boundary frames" in overlay_boundaries([strip], 1).layout.annotations[0].text
