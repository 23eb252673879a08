"""The /new form: list parsing, the spec it sends, and 422 details mapped onto form fields."""

import pytest

from backend.api.catalog import catalog
from frontend.components.run_fields import describe
from frontend.pages.new import FIELDS, build_spec, describe_errors, parse_list

PARAMS = describe(catalog()["run"])  # the run parameters as the form reads them from /catalog


def test_parse_list():
    assert parse_list("0.1, 1, 10", float, "w") == [0.1, 1.0, 10.0]
    assert parse_list(" 0;1 ,1,", int, "s") == [0, 1]
    with pytest.raises(ValueError, match="Seeds: 'x' is not an integer"):
        parse_list("0, x", int, "Seeds")
    with pytest.raises(ValueError, match="at least one"):
        parse_list(" , ", float, "w")


def form(**over):
    values = {
        "name": " fade ",
        "dataset": "moons",
        "n_train": 50,
        "noise": 1.0,
        "model": "logreg",
        "hidden": "32, 16",
        "epochs": 40,
        "lr": 0.1,
        "batch_size": 8,
        "weight_decay": 0.0,
        "loss_norm": "mean",
        "pos_weight": "0.1, 1, 10",
        "seed": "0, 1",
    }
    return values | over


def test_build_spec_sweeps_weights_and_seeds():
    spec = build_spec(form(), params=PARAMS)
    assert spec["name"] == "fade"
    assert spec["sweep"] == {"pos_weight": [0.1, 1.0, 10.0], "seed": [0, 1]}
    assert spec["base"]["dataset"] == "moons" and spec["base"]["epochs"] == 40 and spec["base"]["loss_norm"] == "mean"
    assert "hidden" not in spec["base"]  # logreg: the API's default stays
    assert build_spec(form(model="mlp"), params=PARAMS)["base"]["hidden"] == [32, 16]
    assert "tags" not in spec  # none given: the request stays as it was
    assert build_spec(form(tags=" paper, 2-d,, "), params=PARAMS)["tags"] == ["paper", "2-d"]


def test_a_refused_tag_is_marked_on_the_tags_field():
    detail = [{"loc": ["body", "tags", 0], "msg": "Value error, 'a b' is not a tag: 1-32 characters"}]
    assert describe_errors(detail) == [("tags", "Tags: 'a b' is not a tag: 1-32 characters")]


def test_describe_errors_names_form_fields():
    detail = [
        {"loc": ["body", "base", "epochs"], "msg": "Input should be greater than or equal to 1"},
        {"loc": ["body", "name"], "msg": "String should have at least 1 character"},
        {"loc": ["body"], "msg": "Value error, sweep.pos_weight: Input should be greater than 0"},
        {"loc": ["body", "sweep", "bogus"], "msg": "odd"},
        {"loc": ["body", "base"], "msg": "Value error, dataset: needs a path"},
    ]
    assert describe_errors(detail, PARAMS) == [
        ("epochs", "Epochs: Input should be greater than or equal to 1"),
        ("name", "Name: String should have at least 1 character"),
        ("pos_weight", "Positive-class weights: Input should be greater than 0"),
        (None, "sweep.bogus: odd"),
        ("dataset", "Data set: needs a path"),
    ]
    assert describe_errors("plain text") == [(None, "plain text")]
    assert all(fid.startswith("field-") for fid, _ in FIELDS.values())


def test_the_form_offers_every_dataset_and_model_of_the_catalog():
    class Catalog:
        def catalog(self):
            enum = lambda *v: {"type": "string", "enum": list(v)}  # noqa: E731
            return {
                "run": {
                    "properties": {
                        "dataset": enum("blobs", "moons", "cifar10"),
                        "model": enum("logreg", "mlp", "resnet"),
                        "loss_norm": enum("sum"),
                    }
                },
                "defaults": {"base": {}},
            }

    from frontend.pages.new import layout

    text = str(layout(Catalog()))
    assert "'moons'" in text and "'cifar10'" in text and "'resnet'" in text


def test_the_sweep_builder_types_axes_from_the_catalog_and_estimates_time():
    import pytest

    from frontend.components import sweep_builder as axes
    from frontend.pages.new import build_spec, extra_axes

    schema = {"properties": {
        "lr": {"type": "number", "maximum": 100}, "epochs": {"type": "integer", "minimum": 1}, "batchnorm": {"type": "boolean"},
        "loss": {"type": "string", "enum": ["ce", "poly"]}, "drw_epoch": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
        "data_path": {"anyOf": [{"type": "string"}, {"type": "null"}]}, "seed": {"type": "integer"}, "hidden": {"type": "array"},
    }}  # fmt: skip
    params = axes.sweepable(schema)
    assert sorted(params) == ["batchnorm", "drw_epoch", "epochs", "loss", "lr"]
    assert params["drw_epoch"]["kind"] == "integer"
    extra = extra_axes([("lr", "0.1, 0.01, 0.1"), ("", "ignored"), ("batchnorm", "true, no"), ("loss", "poly")], params)
    assert extra == {"lr": [0.1, 0.01], "batchnorm": [True, False], "loss": ["poly"]}
    for pairs, message in (([("epochs", "1.5")], "epochs: '1.5' is not an integer"), ([("loss", "mse")], "loss: 'mse' is not one of ce, poly"),
                           ([("lr", "1"), ("lr", "2")], "lr: swept twice"), ([("lr", " ")], "lr: give at least one value")):  # fmt: skip
        with pytest.raises(ValueError, match=message):
            extra_axes(pairs, params)
    form = {"name": "x", "pos_weight": "1, 2", "seed": "0", "lr": 0.5, "epochs": 10, "model": "logreg"}
    spec = build_spec(form, extra={"lr": [0.1, 0.01]}, params=PARAMS)
    assert spec["sweep"] == {"pos_weight": [1.0, 2.0], "lr": [0.1, 0.01], "seed": [0]} and "lr" not in spec["base"]
    # 2 weights x 2 epochs values: (100 + 300 epochs) x 25 steps x 2 weights at the measured pace
    sweep = {"pos_weight": [1, 2], "epochs": [100, 300]}
    assert axes.estimate_seconds(sweep, {"epochs": 5, "n_train": 100, "batch_size": 8}) == pytest.approx(
        2 * 400 * 25 / axes.STEPS_PER_SECOND
    )
    assert axes.duration(30) == "~30 s" and axes.duration(600) == "~10 min" and axes.duration(7200) == "~2.0 h"
    too_many = axes.summary(
        {"weights": list(range(30)), "seeds": list(range(20))}, {"epochs": 1, "n_train": 1, "batch_size": 1}, 512
    )
    assert (
        "600 runs" in too_many.children and "limit of 512" in too_many.children and too_many.className == "text-danger"
    )
