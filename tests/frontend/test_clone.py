"""Clone into the form: an experiment's spec becomes the form's starting values."""

from frontend.pages import new


def test_a_clone_fills_the_weights_seeds_other_axes_base_and_tags():
    source = {
        "name": "wd sweep",
        "tags": ["paper", "2-d"],
        "spec": {
            "base": {"model": "mlp", "epochs": 40, "lr": 0.05, "pos_weight": 1.0},
            "sweep": {"weight_decay": [0.0, 0.01], "pos_weight": [0.1, 1.0, 10.0], "seed": [0, 1]},
        },
    }
    clone = new.clone_values(source)
    assert clone["name"] == "wd sweep (copy)" and clone["tags"] == "paper, 2-d"
    assert clone["weights"] == "0.1, 1, 10" and clone["seeds"] == "0, 1"
    assert clone["axes"] == [("weight_decay", [0.0, 0.01])]
    assert clone["base"]["epochs"] == 40
    # a spec that does not sweep the weight keeps its base run's
    lone = new.clone_values({"name": "x", "spec": {"base": {"pos_weight": 4.0}, "sweep": {"lr": [0.1, 0.01]}}})
    assert lone["weights"] == "4" and lone["seeds"] == "0" and lone["axes"] == [("lr", [0.1, 0.01])]
    assert new.clone_values(None) == {}
