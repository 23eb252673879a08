"""The run parameters of `GET /catalog` as form fields: what kind of control each needs and its
limits, and how the form shows it (section, folded away as advanced, label, option labels, the
choices that make it matter: poly_alpha only with the poly loss, width only for the ConvNet /
ResNet...), all read from the catalog's JSON schema (its `x-form` metadata, worker/engine/form.py).

Pure helpers, no Dash: the page builds its controls from `describe()`, its inline messages from
`limit_error()`, and drops the parameters that do not matter from the spec with `relevant()`.
"""

from __future__ import annotations

import json
import math

# Headings for sections the catalog does not name, and the section of unplaced parameters.
OTHER = ("other", "Other parameters")

DATASETS_2D = ("blobs", "wang_gaussians", "moons")
IMAGE_DATASETS = ("cifar10", "folder")

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
    lengths, description, default, and how the form shows it (from `x-form`: section, advanced,
    label, when, options, start_empty; a parameter without it goes to "other"); in the schema's
    order."""
    out: dict[str, dict] = {}
    for name, prop in (schema.get("properties") or {}).items():
        branches = [prop] + list(prop.get("anyOf", []))
        types = [b.get("type") for b in branches]
        typed = next((b for b in branches if b.get("type") not in (None, "null")), prop)
        info = {
            "kind": next((k for k in ("boolean", "integer", "number", "string") if k in types), "string"),
            "items": None, "enum": prop.get("enum") or typed.get("enum"), "nullable": "null" in types,
            "description": prop.get("description", ""), "default": prop.get("default"),
        }  # fmt: skip
        meta = prop.get("x-form") or {}
        info |= {"section": meta.get("section", OTHER[0]), "order": meta.get("order", len(out)),
                 "advanced": meta.get("advanced", True) if meta else False,
                 "label": meta.get("label") or name.replace("_", " ").capitalize(), "when": meta.get("when", {}),
                 "options": meta.get("options", {}), "start_empty": meta.get("start_empty", False)}  # fmt: skip
        if "array" in types:
            info["kind"], info["items"] = "list", (typed.get("items") or {}).get("type", "string")
            info["min_items"], info["max_items"] = typed.get("minItems"), typed.get("maxItems")
        for bound in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "maxLength"):
            info[bound] = typed.get(bound)
        out[name] = info
    return out


def label(params: dict[str, dict], name: str) -> str:
    info = params.get(name)
    return info["label"] if info else name.replace("_", " ").capitalize()


def section_titles(schema: dict) -> dict[str, str]:
    """section id -> heading, in form order (the catalog's `x-form-sections`), "other" last."""
    return {**{s: title for s, title in schema.get("x-form-sections", [])}, OTHER[0]: OTHER[1]}


def sweep_fields(params: dict[str, dict]) -> set[str]:
    """The parameters the form sweeps in its own row (weights, seeds), not in a section."""
    return {n for n, info in params.items() if info["section"] == "sweep"}


def placed(params: dict[str, dict], order: dict[str, str] | None = None) -> dict[str, tuple[list[str], list[str]]]:
    """section -> ([shown], [advanced]) parameter names in form order, sections in `order`
    (section_titles), the sweep row's parameters left out."""
    out: dict[str, tuple[list[str], list[str]]] = {s: ([], []) for s in order or {}}
    for name, info in sorted(params.items(), key=lambda item: item[1]["order"]):
        if info["section"] != "sweep":
            out.setdefault(info["section"], ([], []))[1 if info["advanced"] else 0].append(name)
    return {s: lists for s, lists in out.items() if lists[0] or lists[1]}


def choices(params: dict[str, dict], base: dict, sweep: dict[str, list] | None = None) -> dict[str, set]:
    """The values each controlling parameter takes in an experiment: its base value, or every value
    of its sweep axis (a sweep over losses needs every swept loss's parameters)."""
    controllers = {c for info in params.values() for c in info["when"]}
    return {c: {_hashable(v) for v in (sweep or {}).get(c) or [base.get(c)]} for c in controllers}


def _hashable(value):
    """A controller's value as a set member: class_weights may be a mapping (or a sweep of them)."""
    return json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else value


# models that need 32 x 32 images: the form says so on "model" before the API would
IMAGE_MODELS = {"convnet": "the ConvNet", "resnet": "the ResNet"}


def pairing_error(base: dict, sweep: dict[str, list] | None = None) -> str | None:
    """Why the chosen (or swept) models cannot train on the chosen (or swept) data, if they cannot."""
    taken = {c: {_hashable(v) for v in (sweep or {}).get(c) or [base.get(c)]} for c in ("model", "dataset")}
    needs_images = sorted(m for m in taken["model"] if m in IMAGE_MODELS)
    flat = sorted(d for d in taken["dataset"] if d is not None and d not in IMAGE_DATASETS)
    if needs_images and flat:
        verb = "needs" if len(needs_images) == 1 else "need"
        return f"{' and '.join(IMAGE_MODELS[m] for m in needs_images)} {verb} 32x32 images (cifar10 or folder), not {', '.join(flat)}"
    return None


def relevant(params: dict[str, dict], name: str, taken: dict[str, set]) -> bool:
    """Does `name` matter for some run, given the values its controllers take? Unknown controller
    values count as mattering; for a rule `true` ("once it has any value") None means "not given",
    so it does not."""
    info = params.get(name)
    return info is None or all(_matters(taken.get(c), rule) for c, rule in info["when"].items())


def _matters(values: set | None, rule: list[str] | bool) -> bool:
    if not values:
        return True
    if rule is True:
        return any(v is not None for v in values)
    return None in values or bool(values & set(rule or ()))


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
            raise ValueError(f"{info['label']}: '{bad}' is not an integer") from None
    return items


def _num(x) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)
