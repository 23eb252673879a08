"""How a form shows each run parameter: its section and place in it, whether it is folded away as
advanced, its label, the values of other parameters under which it matters, labels for its options. `/catalog`
serves it inside the run schema (each property's `x-form`, the section order as `x-form-sections`),
and the dashboard's form is generated from that alone. tests/worker/test_form_metadata.py keeps
every RunSpec field placed here.

Parameters are listed per section in form order; "sweep" holds the ones the form sweeps in its own
row (one run per weight and seed).
"""

from __future__ import annotations

import copy
from typing import Any, get_args

from .spec import DATASETS_2D, IMAGE_DATASETS, LOSS_PARAMS, Dataset

SECTIONS = (("data", "Data"), ("model", "Model"), ("loss", "Loss"), ("optimisation", "Optimisation"),
            ("recording", "Recording"))  # fmt: skip
# In WHEN: the parameter matters once its controller is given any value (drw_beta weighs anything
# only when drw_epoch switches deferred re-weighting on).
SET = "<set>"

# section -> (shown, folded under "More options"), in form order
PLACES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "sweep": (("pos_weight", "seed"), ()),
    "data": (("dataset", "classes", "data_path", "dataset_id", "n_train", "noise"),
             ("n_test", "imbalance", "label_noise", "resample", "ood", "noise_images", "data_seed",
              "label_column", "weight_column", "group_column", "group_weights", "test_path", "test_fraction", "target_path", "target_dataset_id",
              "example_weights", "weight_clip", "weight_normalise")),
    "model": (("model", "hidden", "width", "dropout", "batchnorm"), ("head", "fixup")),
    "loss": (("loss", "loss_norm", *(p for params in LOSS_PARAMS.values() for p in params)),
             ("weight_power", "drw_epoch", "drw_beta", "class_weights", "class_beta")),
    "optimisation": (("epochs", "lr", "batch_size", "weight_decay"), ("momentum", "schedule", "patience", "val_fraction")),
    "recording": ((), ("eval_points", "frames", "grid")),
}  # fmt: skip

# the data sets that sample their own examples (a table is used as it is) and the built-in ones
# that imbalance and label noise apply to (the synthetic shift and spurious sets fix their own)
SAMPLED = tuple(d for d in get_args(Dataset) if d != "table")
BUILT_IN = (*DATASETS_2D, "digits", *IMAGE_DATASETS)
TABLE_FIELDS = ("label_column", "weight_column", "group_column", "group_weights", "test_path", "test_fraction", "target_path",
                "target_dataset_id")  # fmt: skip

# parameter -> {controlling parameter: the values under which it matters, or SET}; absent: always matters
WHEN: dict[str, dict[str, tuple[str, ...] | str]] = {
    "classes": {"dataset": ("digits", *IMAGE_DATASETS)},
    "data_path": {"dataset": (*IMAGE_DATASETS, "table")},
    "dataset_id": {"dataset": ("folder", "table")},
    **dict.fromkeys(TABLE_FIELDS, {"dataset": ("table",)}),
    **dict.fromkeys(("example_weights", "weight_clip", "weight_normalise"), {"dataset": ("table", "covariate_shift")}),
    "group_weights": {"dataset": ("table", "spurious")},
    **dict.fromkeys(("n_train", "n_test"), {"dataset": SAMPLED}),
    **dict.fromkeys(("imbalance", "label_noise"), {"dataset": BUILT_IN}),
    "ood": {"dataset": IMAGE_DATASETS},
    "noise_images": {"dataset": IMAGE_DATASETS},
    "noise": {"dataset": DATASETS_2D},
    "frames": {"dataset": DATASETS_2D},
    "grid": {"dataset": DATASETS_2D},
    "hidden": {"model": ("mlp",)},
    "width": {"model": ("convnet", "resnet")},
    "dropout": {"model": ("mlp", "convnet")},
    "batchnorm": {"model": ("mlp", "resnet")},
    "fixup": {"model": ("resnet",)},
    **{param: {"loss": (loss,)} for loss, params in LOSS_PARAMS.items() for param in params},
    "drw_beta": {"drw_epoch": SET},
    "val_fraction": {"patience": SET},  # the validation split exists only for early stopping
    "class_beta": {"class_weights": ("effective_number",)},
}

# Started empty (the API's default) rather than at the default run's value: classes default per
# data set (3, 5 for digits; cat, dog for cifar10), so blobs' neg, pos would be wrong for the others.
START_EMPTY = ("classes",)

LABELS = {
    "dataset": "Data set", "classes": "Classes (negative, positive)", "data_path": "Data path", "dataset_id": "Uploaded dataset (id)", "n_train": "Training points per class",
    "n_test": "Test points per class", "imbalance": "Imbalance", "label_noise": "Label noise", "resample": "Resample instead of weighting",
    "ood": "Out-of-domain test images", "noise_images": "Noise test images", "noise": "Noise", "data_seed": "Data seed",
    "model": "Model", "hidden": "Hidden widths", "width": "Width", "dropout": "Dropout", "batchnorm": "BatchNorm",
    "loss": "Loss", "pos_weight": "Positive-class weights", "weight_power": "Weight exponent", "loss_norm": "Loss normalisation",
    "poly_alpha": "Poly tail exponent α", "ldam_max_margin": "LDAM largest margin", "ldam_scale": "LDAM logit scale s",
    "drw_epoch": "Deferred re-weighting from epoch", "drw_beta": "DRW class-balance β", "head": "Last layer", "fixup": "Fixup initialisation", "la_tau": "Logit adjustment τ", "vs_gamma": "VS γ", "vs_tau": "VS τ",
    "lr": "Learning rate", "momentum": "Momentum", "schedule": "Learning-rate schedule", "batch_size": "Batch size", "epochs": "Epochs",
    "weight_decay": "Weight decay", "patience": "Early-stopping patience", "val_fraction": "Validation share", "seed": "Seeds",
    "eval_points": "Evaluation points", "frames": "Boundary frames", "grid": "Boundary grid",
    "label_column": "Label column", "weight_column": "Weight column", "group_column": "Group column",
    "test_path": "Test table path", "test_fraction": "Test share", "target_path": "Target sample path",
    "target_dataset_id": "Target sample (dataset id)", "example_weights": "Per-example weights",
    "weight_clip": "Clip weights at", "weight_normalise": "Self-normalise weights",
    "class_weights": "Class weights", "class_beta": "Effective-number β", "group_weights": "Group weighting",
}  # fmt: skip

OPTION_LABELS = {
    "dataset": {"blobs": "blobs (2-D)", "wang_gaussians": "Wang's Gaussians (2-D)", "moons": "moons (2-D)",
                "digits": "digits (sklearn 8×8)", "cifar10": "CIFAR-10", "folder": "image folder",
                "table": "table (CSV, Parquet, NPZ)", "covariate_shift": "covariate shift (2-D)",
                "spurious": "spurious correlation (2-D, 4 groups)"},
    "model": {"logreg": "logistic regression", "mlp": "MLP (ReLU)", "convnet": "ConvNet (Byrd & Lipton)", "resnet": "ResNet (small)"},
    "loss": {"ce": "cross-entropy", "poly": "polynomially-tailed", "ldam": "LDAM", "la": "logit adjustment", "vs": "VS"},
    "loss_norm": {"sum": "sum: divide by the batch's sum of weights", "mean": "mean: divide by the batch size"},
}  # fmt: skip


def metadata(name: str) -> dict[str, Any] | None:
    """A parameter's `x-form`, or None where it is not placed (the form then shows it under
    "Other parameters")."""
    place = next(((s, (*shown, *adv).index(name), name in adv) for s, (shown, adv) in PLACES.items()
                  if name in shown or name in adv), None)  # fmt: skip
    if place is None:
        return None
    meta: dict[str, Any] = {"section": place[0], "order": place[1], "advanced": place[2]}
    if name in LABELS:
        meta["label"] = LABELS[name]
    if name in WHEN:
        # JSON: a list of values, or true for "once it has any value"
        meta["when"] = {c: True if rule == SET else list(rule) for c, rule in WHEN[name].items()}
    if name in OPTION_LABELS:
        meta["options"] = OPTION_LABELS[name]
    if name in START_EMPTY:
        meta["start_empty"] = True
    return meta


def annotate(schema: dict[str, Any]) -> dict[str, Any]:
    """The run schema with each property's `x-form` and the sections' order and headings."""
    out = copy.deepcopy(schema)
    for name, prop in out.get("properties", {}).items():
        if (meta := metadata(name)) is not None:
            prop["x-form"] = meta
    out["x-form-sections"] = [list(s) for s in SECTIONS]
    return out
