"""The verdict card: met / not met / pending marks, and l2-calibration's heatmap."""

from frontend.components import verdict

from .test_pages import by_id
from .test_tables import texts, walk


def answer(**extra) -> dict:
    return {
        "experiment_id": 1,
        "preset": "digits-pair",
        "variant": "quick",
        "title": "Digits",
        "runs_total": 6,
        "runs_measured": 3,
        "final": False,
        "checks": [
            {"claim": "spread >= 0.5", "met": True, "measured": "0.800"},
            {"claim": "all fit", "met": None, "measured": "not measurable yet (KeyError)"},
        ],
    } | extra


def test_the_card_marks_each_expectation_and_says_whether_it_is_final():
    card = verdict.card(answer())
    words = texts(card)
    assert "met" in words and "pending" in words and "0.800" in words
    assert "so far" in texts(by_id(card, "verdict-state"))[0]
    assert "final: 1 of 2" in texts(by_id(verdict.card(answer(final=True)), "verdict-state"))[0]
    assert verdict.card(answer(preset=None)) is None and verdict.card(None) is None


def test_the_calibration_heatmap_is_realised_minus_intended():
    cells = [
        {"weight_decay": wd, "weight": w, "realised": r, "intended": i}
        for wd, w, r, i in ((0.0, 4.0, -0.1, -0.3), (0.01, 4.0, -0.25, -0.3))
    ]
    fig = verdict.calibration_figure(cells)
    (heat,) = fig.data
    assert list(heat.y) == ["L2 0", "L2 0.01"] and list(heat.x) == ["w = 4"]
    assert [round(row[0], 6) for row in heat.z] == [0.2, 0.05]  # -0.1 - (-0.3), -0.25 - (-0.3)
    assert heat.zmid == 0 and heat.text[0][0] == "+0.200"

    def ids(card) -> set:
        return {getattr(c, "id", None) for c in walk(card)}

    assert "calibration-graph" in ids(verdict.card(answer(calibration=cells)))
    assert "calibration-graph" not in ids(verdict.card(answer()))


def test_a_check_with_an_interval_shows_its_n_and_interval_and_one_without_says_why():
    paired = {
        "claim": "w = 10 minus w = 1, paired within seeds: 95% interval above 0",
        "met": True,
        "measured": "+0.082 [+0.077, +0.088], n = 3, paired t-test p = 0.0012",
        "n": 3,
        "interval": [0.077, 0.088],
    }
    card = verdict.card(answer(checks=[paired, {"claim": "spread >= 0.1", "met": False, "measured": "0.050"}]))
    table = by_id(card, "verdict-table")
    assert texts(table.children[0]) == ["expected", "measured", "n", "95% interval", ""]
    first, second = table.children[1].children
    assert texts(first)[1:4] == [paired["measured"], "3", "[0.077, 0.088]"]
    n_cell, ci_cell = second.children[2:4]
    assert (n_cell.children, ci_cell.children) == ("-", "-") and "one number" in ci_cell.title
    _, pending = by_id(verdict.card(answer()), "verdict-table").children[1].children  # met None
    assert "not measurable" in pending.children[3].title
