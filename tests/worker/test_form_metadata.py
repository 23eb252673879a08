"""Every run parameter is placed on the form (worker/engine/form.py), and what /catalog serves is
what the form reads: one declaration of section, label and when a parameter matters."""

from backend.api.catalog import catalog
from worker.engine import form
from worker.engine.spec import RunSpec


def test_every_run_parameter_has_a_section_and_a_label():
    unplaced = [n for n in RunSpec.model_fields if form.metadata(n) is None or "label" not in form.metadata(n)]
    assert not unplaced, f"place these in worker/engine/form.py (PLACES, LABELS): {unplaced}"


def test_the_form_tables_name_only_run_parameters_and_values_they_can_take():
    fields, schema = set(RunSpec.model_fields), RunSpec.model_json_schema()["properties"]
    placed = [n for shown, adv in form.PLACES.values() for n in (*shown, *adv)]
    assert len(placed) == len(set(placed)), "a parameter placed twice"
    assert set(placed) | set(form.LABELS) | set(form.WHEN) | set(form.OPTION_LABELS) <= fields
    for name, rule in form.WHEN.items():
        for controller, values in rule.items():
            assert controller in fields, (name, controller)
            enum = schema[controller].get("enum") or next(
                (b.get("enum") for b in schema[controller].get("anyOf", []) if b.get("enum")), None
            )
            if values != form.SET and enum:
                assert set(values) <= set(enum), (name, controller, set(values) - set(enum))
    for name, labels in form.OPTION_LABELS.items():
        assert set(labels) == set(schema[name]["enum"]), name


def test_the_catalog_serves_each_parameters_form_metadata():
    run = catalog()["run"]
    assert [s for s, _ in run["x-form-sections"]] == [s for s, _ in form.SECTIONS]
    assert run["properties"]["poly_alpha"]["x-form"] == {
        "section": "loss",
        "order": 2,
        "advanced": False,
        "label": "Poly tail exponent α",
        "when": {"loss": ["poly"]},
    }
    assert run["properties"]["drw_beta"]["x-form"]["when"] == {"drw_epoch": True}
