"""The /new form generated from the real catalog: a control per run parameter with the schema's
limits, parameters shown only where they matter, and a spec from the form's values that the
experiment model accepts."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from backend.api.catalog import catalog
from frontend.components import run_fields as rf
from frontend.components import run_form
from frontend.pages import new
from worker.engine.spec import ExperimentSpec, RunSpec


class Catalog:
    def catalog(self):
        return catalog()


def components(node):
    """Every Dash component under `node`, depth first."""
    yield node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and hasattr(child, "to_plotly_json"):
            yield from components(child)


@pytest.fixture(scope="module")
def page():
    return new.layout(Catalog())


def controls(page) -> dict[str, Any]:
    """Run parameter -> its control on the page (the two sweep lists are the form's own fields)."""
    out = {}
    for c in components(page):
        cid = getattr(c, "id", None)
        if isinstance(cid, dict) and cid["type"] in (run_form.FIELD, run_form.SWITCH):
            out[cid["name"]] = c
        elif cid in ("field-weights", "field-seeds"):
            out["pos_weight" if cid == "field-weights" else "seed"] = c
    return out


def form_values(page) -> dict:
    return {name: c.value for name, c in controls(page).items()}


def test_every_catalog_parameter_has_a_control_of_its_kind(page):
    found = controls(page)
    assert sorted(found) == sorted(RunSpec.model_fields)
    props = catalog()["run"]["properties"]
    for name, control in found.items():
        kind = type(control).__name__
        if "enum" in props[name]:
            assert kind == "Select" and [o["value"] for o in control.options] == props[name]["enum"], name
        elif props[name].get("type") == "boolean":
            assert kind == "Switch", name
        elif props[name].get("type") == "array" or name in ("pos_weight", "seed"):
            assert kind == "Input" and control.type == "text", name  # comma-separated
    assert found["classes"].type == "text" and found["hidden"].value == "64"
    assert found["classes"].value == "", "classes start empty: their default depends on the data set"


def test_number_inputs_leave_the_limits_to_the_page_so_the_browser_raises_no_bubble(page):
    found = controls(page)
    for name in ("epochs", "lr", "label_noise", "width", "poly_alpha", "vs_gamma", "grid", "momentum", "patience"):
        control = found[name]
        assert control.type == "number" and control.step == "any", name
        for attribute in ("min", "max", "required", "pattern"):  # each raises a native tooltip on submit
            assert getattr(control, attribute, None) is None, (name, attribute)
    assert found["patience"].placeholder == "off", "optional numbers: empty means off"
    inputs = [c for c in components(page) if type(c).__name__ == "Input"]
    assert len(inputs) > 20 and not [
        (c.id, a) for c in inputs for a in ("min", "max", "required", "pattern") if getattr(c, a, None) is not None
    ], "no input anywhere on the form carries a constraint the browser would enforce itself"
    submit = next(c for c in components(page) if getattr(c, "id", None) == "submit")
    assert submit.type == "button", "a click never submits the form natively (no validation bubbles)"
    # the page's own check, read off worker/engine/spec.py's Field(...) declarations
    fields = rf.describe(catalog()["run"])
    assert rf.limit_error(fields["patience"], None) is None
    assert (
        rf.limit_error(fields["patience"], 0)
        == rf.limit_error(fields["patience"], 1.5)
        == "give a whole number from 1 to 100000"
    )
    assert rf.limit_error(fields["drw_epoch"], -1) == "give a whole number from 0 to 100000"
    assert rf.limit_error(fields["epochs"], None) == "give a whole number from 1 to 100000"
    assert rf.limit_error(fields["epochs"], 2.5) == "give a whole number from 1 to 100000"
    assert rf.limit_error(fields["lr"], 0) == "give a number above 0 and at most 100"
    assert rf.limit_error(fields["label_noise"], 0.5) == "give a number at least 0 and below 0.5"
    assert rf.limit_error(fields["label_noise"], 0.49) is None and rf.limit_error(fields["lr"], 100) is None


def test_sections_fold_the_advanced_parameters_and_help_comes_from_the_catalog(page):
    headings = [c.children for c in components(page) if type(c).__name__ == "H5"]
    assert headings == ["Sweep", "Data", "Model", "Loss", "Optimisation", "Recording"]
    folded = {s: {c.id["name"] for c in components(d) if isinstance(getattr(c, "id", None), dict) and c.id["type"] == run_form.GROUP}
              for d in components(page) if str(getattr(d, "id", "")).startswith("advanced-") for s in [d.id.removeprefix("advanced-")]}  # fmt: skip
    assert {"label_noise", "imbalance", "resample"} <= folded["data"] and {
        "patience",
        "momentum",
        "schedule",
    } <= folded["optimisation"]
    assert folded["recording"] == {"eval_points", "frames", "grid"} and "epochs" not in folded["optimisation"]
    assert "flip this share of the training labels" in str(page)  # label_noise's description as help text


def test_parameters_show_only_for_the_choices_they_matter_for():
    fields = rf.describe(catalog()["run"])

    def shown(**base):
        taken = rf.choices(fields, {"dataset": "blobs", "model": "logreg", "loss": "ce"} | base)
        return {n for n in RunSpec.model_fields if rf.relevant(fields, n, taken)}

    plain = shown()
    assert {"noise", "frames", "grid"} <= plain and not {
        "poly_alpha",
        "width",
        "hidden",
        "data_path",
        "classes",
        "dropout",
        "batchnorm",
    } & plain
    assert {"poly_alpha"} == shown(loss="poly") - plain
    assert {"ldam_max_margin", "ldam_scale"} == shown(loss="ldam") - plain
    assert {"width", "dropout", "data_path", "classes", "ood", "noise_images"} == shown(
        dataset="cifar10", model="convnet"
    ) - plain
    assert {"hidden", "dropout", "batchnorm"} == shown(model="mlp") - plain
    assert {"classes"} == shown(dataset="digits") - plain
    # a sweep over losses needs each swept loss's parameters
    assert rf.relevant(fields, "vs_tau", rf.choices(fields, {"loss": "ce"}, {"loss": ["ce", "vs"]}))
    # drw_beta matters once drw_epoch has any value (a rule `true` in the catalog)
    assert not rf.relevant(fields, "drw_beta", rf.choices(fields, {"drw_epoch": None}))
    assert rf.relevant(fields, "drw_beta", rf.choices(fields, {"drw_epoch": 0}))


def test_a_cifar_convnet_poly_spec_from_the_form_validates(page):
    fields = rf.describe(catalog()["run"])
    values = form_values(page) | {
        "name": "cifar poly", "dataset": "cifar10", "classes": "cat, dog", "model": "convnet", "width": 32, "loss": "poly", "poly_alpha": 2.0,
        "epochs": 3, "pos_weight": "1, 4", "seed": "0, 1",
        "noise": 0, "hidden": "oops",  # 2-D noise and MLP widths do not matter here: left out, not refused
    }  # fmt: skip
    assert new.limit_errors(values, fields) == {}
    spec = new.build_spec(values, params=fields)
    exp = ExperimentSpec.model_validate(spec)
    run = exp.runs()[0]
    assert (run.dataset, run.model, run.loss, run.poly_alpha, run.width, run.classes) == (
        "cifar10",
        "convnet",
        "poly",
        2.0,
        32,
        ["cat", "dog"],
    )
    assert (
        len(exp.runs()) == 4
        and "hidden" not in spec["base"]
        and "noise" not in spec["base"]
        and "ldam_scale" not in spec["base"]
    )
    assert "data_path" not in spec["base"]  # empty: the API's default (IWLAB_DATASETS)
    assert new.limit_errors(values | {"width": 2}, fields) == {"width": "give a whole number from 4 to 512"}


@pytest.mark.parametrize("dataset", ["blobs", "moons", "digits"])
def test_the_form_as_it_opens_validates_for_each_dataset_it_needs_no_files_for(page, dataset):
    values = form_values(page) | {"name": "x", "dataset": dataset}
    runs = ExperimentSpec.model_validate(new.build_spec(values, params=rf.describe(catalog()["run"]))).runs()
    assert len(runs) == 3 and {r.dataset for r in runs} == {dataset}


def test_an_impossible_choice_comes_back_on_the_field_the_api_names(page):
    values = form_values(page) | {"name": "x", "dataset": "blobs", "model": "resnet", "seed": "0"}
    spec = new.build_spec(values, params=rf.describe(catalog()["run"]))
    with pytest.raises(ValidationError) as err:
        ExperimentSpec.model_validate(spec)
    detail = [{"loc": ["body", *e["loc"]], "msg": e["msg"]} for e in err.value.errors()]
    assert new.describe_errors(detail, rf.describe(catalog()["run"])) == [
        ("model", "Model: resnet needs 32x32 images (dataset cifar10 or folder)")
    ]


def test_the_time_estimate_follows_the_model():
    from frontend.components import sweep_builder as axes

    base = {"epochs": 10, "n_train": 100, "batch_size": 8, "model": "convnet", "width": 32}
    # bench/cifar.py's 54 images/s at width 16; width 32 has 4x the convolution work: 10 x 200 images / (54 / 4)
    assert axes.estimate_seconds({"weights": [1, 2]}, base) == pytest.approx(2 * 10 * 200 / (54 / 4))
    logreg = axes.estimate_seconds({"weights": [1, 2]}, base | {"model": "logreg"})
    assert logreg == pytest.approx(2 * 10 * 25 / axes.STEPS_PER_SECOND)
    assert axes.estimate_seconds({"model": ["logreg", "convnet"]}, base) == pytest.approx(
        10 * 200 / (54 / 4) + logreg / 2
    )
    assert "no time estimate" in axes.summary({"weights": [1]}, base | {"model": "resnet"}, 512).children


def test_the_page_opens_with_only_what_matters_for_the_default_run_shown(page):
    hidden = {c.id["name"] for c in components(page) if isinstance(getattr(c, "id", None), dict) and c.id["type"] == run_form.GROUP
              and c.style == {"display": "none"}}  # fmt: skip
    assert {
        "poly_alpha",
        "width",
        "hidden",
        "classes",
        "data_path",
        "ldam_scale",
    } <= hidden  # default run: blobs, logreg, ce
    assert not {"noise", "epochs", "loss", "frames"} & hidden


def test_limits_are_checked_where_a_sweep_makes_a_field_matter_and_not_on_a_swept_field(page):
    fields = rf.describe(catalog()["run"])
    values = form_values(page) | {"loss": "ce", "poly_alpha": 0, "epochs": 0}
    assert new.limit_errors(values, fields) == {
        "epochs": "give a whole number from 1 to 100000"
    }  # poly_alpha unused with ce
    assert new.limit_errors(values, fields, {"loss": ["ce", "poly"], "epochs": [5, 10]}) == {
        "poly_alpha": "give a number above 0 and at most 10"
    }


def test_a_model_that_needs_images_is_refused_on_model_before_the_api_is_asked(page):
    fields = rf.describe(catalog()["run"])
    values = form_values(page) | {"dataset": "blobs", "model": "convnet"}
    assert new.limit_errors(values, fields) == {
        "model": "the ConvNet needs 32x32 images (cifar10 or folder), not blobs"
    }
    assert new.limit_errors(values | {"dataset": "cifar10"}, fields) == {}
    swept = new.limit_errors(
        values | {"model": "mlp"}, fields, {"dataset": ["blobs", "cifar10"], "model": ["mlp", "resnet"]}
    )
    assert "model" not in swept  # a swept model's box holds its values: the API's 422 names the sweep
    on_swept_data = new.limit_errors(values, fields, {"dataset": ["moons", "cifar10"]})
    assert on_swept_data == {"model": "the ConvNet needs 32x32 images (cifar10 or folder), not moons"}
