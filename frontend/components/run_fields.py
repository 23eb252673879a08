"""The run parameters of `GET /catalog` as form fields: what kind of control each needs and its
limits (read from the JSON schema), and the one explicit table the schema cannot give: which
section a parameter sits in, whether it is folded away as advanced, its label, and the choices
that make it matter (poly_alpha only with the poly loss, width only for the ConvNet / ResNet...).

Pure helpers, no Dash: the page builds its controls from `describe()`, its inline messages from
`limit_error()`, and drops the parameters that do not matter from the spec with `relevant()`.
"""

from __future__ import annotations

import json
import math

# (section id, heading). A parameter the table does not place (a new one in the catalog) goes to
# "other", so the form still offers every parameter the API takes.
SECTIONS = (("data", "Data"), ("model", "Model"), ("loss", "Loss"), ("optimisation", "Optimisation"),
            ("recording", "Recording"), ("other", "Other parameters"))  # fmt: skip

# section -> (shown, folded under "More options"); in form order.
PLACES = {
    "data": (("dataset", "classes", "data_path", "dataset_id", "n_train", "noise"),
             ("n_test", "imbalance", "label_noise", "resample", "ood", "noise_images", "data_seed",
              "label_column", "weight_column", "group_column", "group_weights", "test_path", "test_fraction", "target_path", "target_dataset_id",
              "example_weights", "weight_clip", "weight_normalise")),
    "model": (("model", "hidden", "width", "dropout", "batchnorm"), ("head", "fixup")),
    "loss": (("loss", "loss_norm", "poly_alpha", "ldam_max_margin", "ldam_scale", "la_tau", "vs_gamma", "vs_tau"),
             ("weight_power", "drw_epoch", "drw_beta", "class_weights", "class_beta")),
    "optimisation": (("epochs", "lr", "batch_size", "weight_decay"), ("momentum", "schedule", "patience", "val_fraction")),
    "recording": ((), ("eval_points", "frames", "grid")),
}  # fmt: skip

# Swept in the form's own "Sweep" row (one run per weight and seed), not in a section.
SWEEP_FIELDS = ("pos_weight", "seed")

DATASETS_2D = ("blobs", "wang_gaussians", "moons")
IMAGE_DATASETS = ("cifar10", "folder")

# In SHOWN_WHEN: the parameter matters once its controller is given any value (drw_beta only
# weighs anything when drw_epoch switches deferred re-weighting on).
SET = "<set>"

# parameter -> {controlling parameter: the values under which it matters, or SET}; absent: always matters.
SHOWN_WHEN: dict[str, dict[str, tuple[str, ...] | str]] = {
    "classes": {"dataset": ("digits", *IMAGE_DATASETS)},
    "data_path": {"dataset": (*IMAGE_DATASETS, "table")},
    "dataset_id": {"dataset": ("folder", "table")},
    **dict.fromkeys(
        (
            "label_column",
            "weight_column",
            "group_column",
            "test_path",
            "test_fraction",
            "target_path",
            "target_dataset_id",
        ),
        {"dataset": ("table",)},
    ),
    **dict.fromkeys(("example_weights", "weight_clip", "weight_normalise"), {"dataset": ("table", "covariate_shift")}),
    "group_weights": {"dataset": ("table", "spurious")},
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
    "poly_alpha": {"loss": ("poly",)},
    "ldam_max_margin": {"loss": ("ldam",)},
    "ldam_scale": {"loss": ("ldam",)},
    "la_tau": {"loss": ("la",)},
    "vs_gamma": {"loss": ("vs",)},
    "vs_tau": {"loss": ("vs",)},
    "drw_beta": {"drw_epoch": SET},
    "class_beta": {"class_weights": ("effective_number",)},
}

# Start empty (the API's default) rather than at the catalog's default run's value: classes default
# per data set (3, 5 for digits; cat, dog for cifar10), so blobs' neg, pos would be wrong for the others.
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

# What the page shows when the catalog cannot be loaded: the quick 2-D setting.
FALLBACK_SCHEMA = {"properties": {
    "dataset": {"type": "string", "enum": list(DATASETS_2D)},
    "n_train": {"type": "integer", "minimum": 2},
    "noise": {"type": "number", "exclusiveMinimum": 0},
    "model": {"type": "string", "enum": ["logreg", "mlp"]},
    "hidden": {"type": "array", "items": {"type": "integer"}, "minItems": 1},
    "epochs": {"type": "integer", "minimum": 1},
    "lr": {"type": "number", "exclusiveMinimum": 0},
    "batch_size": {"type": "integer", "minimum": 1},
    "weight_decay": {"type": "number", "minimum": 0},
    "loss_norm": {"type": "string", "enum": ["sum", "mean"]},
}}  # fmt: skip


def describe(schema: dict) -> dict[str, dict]:
    """Every run parameter of a JSON schema -> what its control needs: kind (integer | number |
    boolean | string | list), items (a list's item kind), enum, the four bounds, nullable, list
    lengths, description, default; in the schema's order."""
    out = {}
    for name, prop in (schema.get("properties") or {}).items():
        branches = [prop] + list(prop.get("anyOf", []))
        types = [b.get("type") for b in branches]
        typed = next((b for b in branches if b.get("type") not in (None, "null")), prop)
        info = {
            "kind": next((k for k in ("boolean", "integer", "number", "string") if k in types), "string"),
            "items": None, "enum": prop.get("enum") or typed.get("enum"), "nullable": "null" in types,
            "description": prop.get("description", ""), "default": prop.get("default"),
        }  # fmt: skip
        if "array" in types:
            info["kind"], info["items"] = "list", (typed.get("items") or {}).get("type", "string")
            info["min_items"], info["max_items"] = typed.get("minItems"), typed.get("maxItems")
        for bound in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "maxLength"):
            info[bound] = typed.get(bound)
        out[name] = info
    return out


def label(name: str) -> str:
    return LABELS.get(name, name.replace("_", " ").capitalize())


def placed(params: dict[str, dict]) -> dict[str, tuple[list[str], list[str]]]:
    """section -> ([shown], [advanced]) parameter names, only those the catalog lists; the ones
    the table does not place (and are not sweep fields) go to "other", folded away."""
    out = {}
    known = set(SWEEP_FIELDS)
    for section, (shown, advanced) in PLACES.items():
        out[section] = ([n for n in shown if n in params], [n for n in advanced if n in params])
        known |= {*shown, *advanced}
    out["other"] = ([], [n for n in params if n not in known])
    return {s: lists for s, lists in out.items() if lists[0] or lists[1]}


def choices(base: dict, sweep: dict[str, list] | None = None) -> dict[str, set]:
    """The values each controlling parameter takes in an experiment: its base value, or every value
    of its sweep axis (a sweep over losses needs every swept loss's parameters)."""
    controllers = {c for when in SHOWN_WHEN.values() for c in when}
    return {c: {_hashable(v) for v in (sweep or {}).get(c) or [base.get(c)]} for c in controllers}


def _hashable(value):
    """A controller's value as a set member: class_weights may be a mapping (or a sweep of them)."""
    return json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else value


# models that need 32 x 32 images: the form says so on "model" before the API would
IMAGE_MODELS = {"convnet": "the ConvNet", "resnet": "the ResNet"}


def pairing_error(base: dict, sweep: dict[str, list] | None = None) -> str | None:
    """Why the chosen (or swept) models cannot train on the chosen (or swept) data, if they cannot."""
    taken = choices(base, sweep)
    needs_images = sorted(m for m in taken["model"] if m in IMAGE_MODELS)
    flat = sorted(d for d in taken["dataset"] if d is not None and d not in IMAGE_DATASETS)
    if needs_images and flat:
        verb = "needs" if len(needs_images) == 1 else "need"
        return f"{' and '.join(IMAGE_MODELS[m] for m in needs_images)} {verb} 32x32 images (cifar10 or folder), not {', '.join(flat)}"
    return None


def relevant(name: str, taken: dict[str, set]) -> bool:
    """Does `name` matter for some run, given the values its controllers take? Unknown controller
    values (no catalog) count as mattering; for a SET rule None means "not given", so it does not."""
    return all(_matters(taken.get(c), rule) for c, rule in SHOWN_WHEN.get(name, {}).items())


def _matters(values: set | None, rule: tuple[str, ...] | str) -> bool:
    if not values:
        return True
    if rule == SET:
        return any(v is not None for v in values)
    return None in values or bool(values & set(rule))


def limit_text(info: dict) -> str:
    """'a whole number from 1 to 100000', 'a number above 0 and at most 100', ..."""
    what = "a whole number" if info["kind"] == "integer" else "a number"
    low, high = info.get("minimum"), info.get("maximum")
    xlow, xhigh = info.get("exclusiveMinimum"), info.get("exclusiveMaximum")
    if low is not None and high is not None:
        return f"{what} from {_num(low)} to {_num(high)}"
    parts = [f"at least {_num(low)}" if low is not None else f"above {_num(xlow)}" if xlow is not None else "",
             f"at most {_num(high)}" if high is not None else f"below {_num(xhigh)}" if xhigh is not None else ""]  # fmt: skip
    return " ".join([what] + [" and ".join(p for p in parts if p)]).strip()


def limit_error(info: dict, value) -> str | None:
    """The schema's limits checked in the browser: None when `value` is fine, else what is wanted.
    A number input outside its min/max or step reports no value at all, hence 'give ...'."""
    if info["kind"] not in ("integer", "number"):
        return None
    if value is None or value == "" or isinstance(value, float) and math.isnan(value):
        return None if info["nullable"] else f"give {limit_text(info)}"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return f"give {limit_text(info)}"
    low, high = info.get("minimum"), info.get("maximum")
    xlow, xhigh = info.get("exclusiveMinimum"), info.get("exclusiveMaximum")
    if (info["kind"] == "integer" and number != int(number) or low is not None and number < low or high is not None and number > high
            or xlow is not None and number <= xlow or xhigh is not None and number >= xhigh):  # fmt: skip
        return f"give {limit_text(info)}"
    return None


def parse_items(name: str, text, info: dict) -> list:
    """'32, 16' -> [32, 16] with the list's item kind; ValueError names the field and the item."""
    if isinstance(text, list):
        return text
    items = [t.strip() for t in str(text or "").replace(";", ",").split(",") if t.strip()]
    if info.get("items") == "integer":
        try:
            return [int(t) for t in items]
        except ValueError:
            bad = next(t for t in items if not t.lstrip("-").isdigit())
            raise ValueError(f"{label(name)}: '{bad}' is not an integer") from None
    return items


def _num(x) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)
