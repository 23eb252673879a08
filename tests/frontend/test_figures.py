"""Figure builders: panel and line counts, the 0.5 contour, seed bands, log-x, the epoch marker."""

import numpy as np
import plotly.graph_objects as go
import pytest

from frontend.components.figures import (
    BOUNDARY,
    HEATMAP,
    TRACES_PER_PANEL,
    boundary_figure,
    curve_figure,
    empty_figure,
    level_line,
    panel_grid,
    slider_marks,
)
from frontend.components.style import SERIES


def roles(fig: go.Figure, role: str) -> list:
    return [t for t in fig.data if (t.meta or {}).get("role") == role]


def panel(label: str, z=None) -> dict:
    xs, ys = [0.0, 1.0, 2.0], [0.0, 1.0]
    return {
        "label": label,
        "xs": xs,
        "ys": ys,
        "z": z if z is not None else [[0.1, 0.5, 0.9], [0.2, 0.6, 1.0]],
        "points": [[0.1, 0.2, 0.0], [1.5, 0.8, 1.0], [1.9, 0.9, 1.0]],
    }


def test_boundary_has_one_heatmap_and_contour_per_weight():
    fig = boundary_figure([panel("w = 0.1"), panel("w = 1"), panel("w = 10")], epoch=5)
    heatmaps, lines = roles(fig, "heatmap"), roles(fig, "boundary")
    assert len(heatmaps) == len(lines) == 3
    assert all(isinstance(t, go.Heatmap) for t in heatmaps) and all(
        isinstance(t, go.Scatter) and t.mode == "lines" for t in lines
    )
    # panel(): z crosses 0.5 between x = 0 and 1 on the first row (0.1 -> 0.5 exactly at x = 1: not above)
    assert all(len(t.x) > 0 for t in lines)
    assert [a.text for a in fig.layout.annotations] == ["w = 0.1", "w = 1", "w = 10"]
    assert "epoch 5" in fig.layout.title.text
    assert len(fig.data) == 3 * TRACES_PER_PANEL
    # one colour bar and one legend entry per kind, not one per panel
    assert sum(bool(t.showscale) for t in heatmaps) == 1
    assert sum(bool(t.showlegend) for t in fig.data if t.showlegend is not None) == 3


def test_level_line_follows_where_the_probability_crosses_one_half():
    xs = ys = list(np.linspace(-2, 2, 41))
    xx, yy = np.meshgrid(xs, ys)  # rows follow ys
    lx, ly = level_line(xs, ys, 1 / (1 + np.exp(-(xx - 0.5))))  # vertical boundary at x = 0.5
    points = [(x, y) for x, y in zip(lx, ly) if x is not None]
    assert len(points) == 2 * 40 and all(abs(x - 0.5) < 1e-3 for x, _ in points)  # one segment per row of cells
    assert min(y for _, y in points) == -2 and max(y for _, y in points) == 2 and lx[2::3] == [None] * 40
    lx, ly = level_line(xs, ys, np.hypot(xx, yy) / 2)  # a circle of radius 1
    assert all(abs(np.hypot(x, y) - 1) < 0.02 for x, y in zip(lx, ly) if x is not None)
    assert level_line(xs, ys, np.zeros((41, 41))) == ([], [])  # nowhere above: no line


def test_boundary_points_split_by_class_and_panels_keep_a_fixed_trace_layout():
    fig = boundary_figure([panel("a"), panel("b")])
    points = roles(fig, "points")
    assert [len(t.x) for t in points] == [1, 2, 1, 2]  # negatives, positives per panel
    for i in range(2):  # the epoch slider patches z at these indices
        assert fig.data[i * TRACES_PER_PANEL + HEATMAP].meta["role"] == "heatmap"
        assert fig.data[i * TRACES_PER_PANEL + BOUNDARY].meta["role"] == "boundary"
        assert fig.data[i * TRACES_PER_PANEL + HEATMAP].meta["panel"] == i


def test_boundary_panels_draw_a_sample_of_many_points_in_class_proportion():
    many = panel("w = 4") | {"points": [[i / 300, 0.5, float(i >= 150)] for i in range(300)]}  # 150 per class
    negatives, positives = roles(boundary_figure([many]), "points")
    assert len(negatives.x) + len(positives.x) <= 100 and abs(len(negatives.x) - len(positives.x)) <= 1
    assert min(negatives.x) == 0.0 and max(positives.x) > 0.9  # spread over the whole set, not its head


def test_boundary_panels_have_equal_aspect_and_wrap_after_four():
    fig = boundary_figure([panel(str(i)) for i in range(6)])
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis6.scaleanchor == "x6"
    assert panel_grid(6) == (2, 4) and panel_grid(3) == (1, 3) and panel_grid(1) == (1, 1)


def test_boundary_without_panels_says_why():
    fig = boundary_figure([])
    assert not fig.data and "not started" in fig.layout.annotations[0].text


def curve(label: str, color: str, n: int) -> dict:
    lo, hi = ([None] * 4, [None] * 4) if n == 1 else ([0.0, 0.2, 0.3, 0.5], [0.0, 0.4, 0.5, 0.5])
    return {
        "label": label,
        "color": color,
        "epoch": [0, 1, 2, 4],
        "mean": [0.0, 0.3, 0.4, 0.5],
        "sd": [0.0, 0.1, 0.1, 0.0],
        "n": [n] * 4,
        "lo": lo,
        "hi": hi,
    }


def test_curve_has_one_line_per_weight_and_no_band_for_one_seed():
    fig = curve_figure(
        [curve("w = 0.1", SERIES[0], 1), curve("w = 1", SERIES[1], 1), curve("w = 10", SERIES[2], 1)], epoch=2
    )
    means = roles(fig, "mean")
    assert [t.name for t in means] == ["w = 0.1", "w = 1", "w = 10"]
    assert [t.line.color for t in means] == SERIES[:3]
    assert roles(fig, "band") == []
    marker = fig.data[0]
    assert marker.meta["role"] == "epoch-marker" and list(marker.x) == [2, 2]
    assert fig.layout.xaxis.type == "linear"


def test_curve_band_is_the_interval_when_seeds_repeat_and_the_hover_states_n():
    fig = curve_figure([curve("w = 1", SERIES[0], 2)])
    upper, lower = roles(fig, "band")
    assert list(upper.y) == pytest.approx([0.0, 0.4, 0.5, 0.5])
    assert list(lower.y) == pytest.approx([0.0, 0.2, 0.3, 0.5]) and lower.fill == "tonexty"
    (mean,) = roles(fig, "mean")
    assert mean.customdata[1] == "[0.200, 0.400] 95% t-interval, n=2 seeds"
    one = roles(curve_figure([curve("w = 1", SERIES[0], 1)]), "mean")[0]
    assert one.customdata[1] == "(n=1: no interval from one seed)"


def test_curve_log_axis_drops_epoch_zero():
    fig = curve_figure([curve("w = 1", SERIES[0], 1)], logx=True)
    assert fig.layout.xaxis.type == "log"
    assert list(roles(fig, "mean")[0].x) == [1, 2, 4]


def test_curve_without_rows_is_an_empty_message():
    fig = curve_figure([{"label": "w = 1", "color": "#000", "epoch": [], "mean": [], "sd": [], "n": []}])
    assert not fig.data and "waiting" in fig.layout.annotations[0].text
    assert empty_figure("x").layout.annotations[0].text == "x"


def test_slider_marks_keep_first_and_last_and_thin_the_rest():
    epochs = [0, 1, 2, 3, 5, 8, 12, 18, 27, 40, 60, 90, 135, 200]
    marks = slider_marks(epochs, max_labels=6)
    assert marks[0] == "0" and marks[len(epochs) - 1] == "200" and len(marks) == 6
    assert slider_marks([0, 1, 2]) == {0: "0", 1: "1", 2: "2"}
    assert slider_marks([]) == {}


def test_curves_are_webgl_live_and_svg_in_static_images():
    curve = {
        "label": "w = 1",
        "color": SERIES[0],
        "epoch": [0, 1, 2],
        "mean": [0.5, 0.4, 0.3],
        "sd": [0.1, 0.1, 0.1],
        "n": [2, 2, 2],
    }
    live, static = curve_figure([curve]), curve_figure([curve], gl=False)
    assert all(isinstance(t, go.Scattergl) for t in roles(live, "mean") + roles(live, "band"))
    assert not any(isinstance(t, go.Scattergl) for t in static.data)


def test_the_fit_epoch_is_marked_and_dropped_at_zero_on_a_log_axis():
    curve = {
        "label": "w = 1",
        "color": SERIES[0],
        "epoch": [0, 1, 2, 3],
        "mean": [0.5] * 4,
        "sd": [0.0] * 4,
        "n": [1] * 4,
    }
    (mark,) = roles(curve_figure([curve], fit_epoch=2), "fit-epoch")
    assert list(mark.x) == [2, 2] and "epoch 2" in mark.name
    assert roles(curve_figure([curve]), "fit-epoch") == []
    assert roles(curve_figure([curve], logx=True, fit_epoch=0), "fit-epoch") == []


def test_spread_figure_draws_one_line_per_setting():
    from frontend.components.figures import spread_figure

    fig = spread_figure(
        [
            {"label": "wd = 0", "epoch": [0, 1, 2], "value": [0.0, 0.6, 0.2]},
            {"label": "wd = 0.2", "epoch": [0, 1], "value": [0.0, 0.5]},
        ],
        logx=True,
        fit_epoch=1,
    )
    lines = roles(fig, "spread")
    assert [t.name for t in lines] == ["wd = 0", "wd = 0.2"] and list(lines[0].x) == [
        1,
        2,
    ]  # epoch 0 has no place on a log axis
    assert fig.layout.xaxis.type == "log" and len(roles(fig, "fit-epoch")) == 1
    assert spread_figure([]).layout.annotations[0].text.startswith("No spread")


def test_effect_figure_pairs_intended_and_realised_per_weight():
    from frontend.components.figures import effect_figure

    fig = effect_figure(
        [{"weight": 0.1, "realised": 0.5, "intended": 0.1}, {"weight": 10.0, "realised": 0.55, "intended": 0.9}],
        epoch=99,
    )
    (intended,), (realised,) = roles(fig, "intended"), roles(fig, "realised")
    assert list(intended.x) == list(realised.x) == [0.1, 10.0]
    assert list(intended.y) == [0.1, 0.9] and list(realised.y) == [0.5, 0.55]
    assert fig.layout.xaxis.type == "log" and "epoch 99" in fig.layout.title.text
    assert "unweighted run" in effect_figure([]).layout.annotations[0].text


def test_many_weights_get_a_legend_under_the_plot_not_over_the_title():
    few = curve_figure([curve(f"w = {w}", SERIES[i], 1) for i, w in enumerate((0.1, 1, 10))])
    many = curve_figure([curve(f"w = {4.0**k}", SERIES[k % len(SERIES)], 1) for k in range(-4, 6)])
    assert few.layout.legend.orientation == "h"
    assert many.layout.legend.y == 0 and many.layout.legend.yanchor == "bottom" and many.layout.margin.b >= 100
