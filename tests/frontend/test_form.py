"""The /new form: list parsing, the spec it sends, and 422 details mapped onto form fields."""

import pytest

from frontend.pages.new import FIELDS, build_spec, describe_errors, parse_list


def test_parse_list():
    assert parse_list("0.1, 1, 10", float, "w") == [0.1, 1.0, 10.0]
    assert parse_list(" 0;1 ,1,", int, "s") == [0, 1]
    with pytest.raises(ValueError, match="Seeds: 'x' is not an integer"):
        parse_list("0, x", int, "Seeds")
    with pytest.raises(ValueError, match="at least one"):
        parse_list(" , ", float, "w")


def form(**over):
    values = {"name": " fade ", "dataset": "moons", "n_train": 50, "noise": 1.0, "model": "logreg", "hidden": "32, 16",
              "epochs": 40, "lr": 0.1, "batch_size": 8, "weight_decay": 0.0, "loss_norm": "mean", "pos_weight": "0.1, 1, 10", "seed": "0, 1"}
    return values | over


def test_build_spec_sweeps_weights_and_seeds():
    spec = build_spec(form())
    assert spec["name"] == "fade"
    assert spec["sweep"] == {"pos_weight": [0.1, 1.0, 10.0], "seed": [0, 1]}
    assert spec["base"]["dataset"] == "moons" and spec["base"]["epochs"] == 40 and spec["base"]["loss_norm"] == "mean"
    assert "hidden" not in spec["base"]  # logreg: the API's default stays
    assert build_spec(form(model="mlp"))["base"]["hidden"] == [32, 16]


def test_describe_errors_names_form_fields():
    detail = [
        {"loc": ["body", "base", "epochs"], "msg": "Input should be greater than or equal to 1"},
        {"loc": ["body", "name"], "msg": "String should have at least 1 character"},
        {"loc": ["body"], "msg": "Value error, sweep.pos_weight: Input should be greater than 0"},
        {"loc": ["body", "sweep", "bogus"], "msg": "odd"},
        {"loc": ["body", "base"], "msg": "Value error, dataset: needs a path"},
    ]
    assert describe_errors(detail) == [
        ("epochs", "Epochs: Input should be greater than or equal to 1"),
        ("name", "Name: String should have at least 1 character"),
        ("pos_weight", "Positive-class weights: Input should be greater than 0"),
        (None, "sweep.bogus: odd"),
        ("dataset", "Data set: needs a path"),
    ]
    assert describe_errors("plain text") == [(None, "plain text")]
    assert all(fid.startswith("field-") for fid, _ in FIELDS.values())


def test_the_form_offers_only_2d_datasets_and_models():
    class Catalog:
        def catalog(self):
            enum = lambda *v: {"enum": list(v)}  # noqa: E731
            return {"run": {"properties": {"dataset": enum("blobs", "moons", "cifar10"), "model": enum("logreg", "mlp", "resnet"), "loss_norm": enum("sum")}},
                    "defaults": {"base": {}}}

    from frontend.pages.new import layout

    text = str(layout(Catalog()))
    assert "'moons'" in text and "cifar10" not in text and "resnet" not in text
