"""The form's values as an experiment: its own fields, parsing the comma-separated lists and sweep
axes, the ExperimentSpec sent to the API, the catalog's limits on what is used, the API's 422 mapped
back onto fields, and what a cloned experiment puts in the form. No Dash callbacks here."""

from __future__ import annotations

from ...components import run_fields as rf
from ...components import sweep_builder as axes

# The form's own fields (the sweep row): id and label (None: the catalog's label of that run
# parameter); the other run parameters come from the catalog (run_form).
FIELDS: dict[str, tuple[str, str | None]] = {
    "name": ("field-name", "Name"),
    "pos_weight": ("field-weights", None),
    "seed": ("field-seeds", None),
    "tags": ("field-tags", "Tags"),
}


def own_label(name: str, params: dict[str, dict]) -> str:
    return FIELDS[name][1] or rf.label(params, name)


FALLBACK = {
    "name": "weights-vs-epochs",
    "dataset": "blobs",
    "n_train": 100,
    "noise": 1.0,
    "model": "logreg",
    "hidden": [64],
    "epochs": 200,
    "lr": 0.03,
    "batch_size": 8,
    "weight_decay": 0.0,
    "loss_norm": "sum",
}


def parse_list(text: str | None, kind: type, what: str) -> list:
    """'0.1, 1, 10' -> [0.1, 1.0, 10.0]; duplicates dropped, order kept; ValueError names the bad item."""
    items = [t.strip() for t in (text or "").replace(";", ",").split(",") if t.strip()]
    if not items:
        raise ValueError(f"{what}: give at least one value")
    out = []
    for item in items:
        try:
            value = kind(item)
        except ValueError:
            raise ValueError(f"{what}: '{item}' is not {'an integer' if kind is int else 'a number'}") from None
        if value not in out:
            out.append(value)
    return out


def describe_errors(detail, params: dict[str, dict] | None = None) -> list[tuple[str | None, str]]:
    """FastAPI 422 detail -> [(form field or None, 'Label: message')]; `params`: the catalog's run
    parameters (run_fields.describe), besides the ones the form labels itself."""
    if not isinstance(detail, list):
        return [(None, str(detail))]
    params = params or {}
    names = set(FIELDS) | set(params)
    out = []
    for err in detail:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body",)]
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        field = next((p for p in reversed(loc) if p in names), None)
        if field is None:  # model validators name the field in the message: "sweep.epochs: ..." or "classes: ..."
            name, _, rest = msg.removeprefix("sweep.").partition(":")
            if name in names and rest:
                field, msg = name, rest.strip()
        label = (
            own_label(field, params)
            if field in FIELDS
            else rf.label(params, field)
            if field
            else ".".join(loc) or "spec"
        )
        out.append((field, f"{label}: {msg}"))
    return out


AXES = [(f"axis-param-{i}", f"axis-values-{i}") for i in range(axes.MAX_AXES)]


def extra_axes(pairs, params: dict[str, dict]) -> dict[str, list]:
    """[(parameter, 'v1, v2'), ...] from the sweep builder -> {parameter: typed values}; rows
    without a parameter are ignored. ValueError names the parameter."""
    out = {}
    for name, text in pairs:
        if not name:
            continue
        if name in out:
            raise ValueError(f"{name}: swept twice")
        out[name] = axes.parse_axis(name, text, params.get(name, {"kind": "string"}))
    return out


def readable_axes(pairs, params: dict[str, dict]) -> dict[str, list]:
    """The axes that parse so far (for what to show while the user is still typing)."""
    out: dict[str, list] = {}
    for name, text in pairs:
        try:
            out |= extra_axes([(name, text)], params)
        except ValueError:
            pass
    return out


def build_spec(
    values: dict,
    defaults: dict | None = None,
    extra: dict[str, list] | None = None,
    params: dict[str, dict] | None = None,
) -> dict:
    """Form values -> ExperimentSpec JSON. `params`: the catalog's run parameters (run_fields.describe);
    only those in `values` that matter for the chosen data, model and loss go in the base run (the
    others keep the API's default); an empty optional field means the default too. `extra` axes (from
    the sweep builder) join the weights and seeds, and leave the base run. Raises ValueError (naming
    the field) on unparsable lists."""
    params = params or rf.describe(rf.FALLBACK_SCHEMA)
    extra = extra or {}
    base = dict((defaults or {}).get("base", {}))
    taken = rf.choices(params, values, extra)
    for name, info in params.items():
        if info["section"] == "sweep" or name not in values:
            continue
        value = values[name]
        if name in extra or not rf.relevant(params, name, taken):
            base.pop(name, None)
            continue
        if info["kind"] == "list":
            value = rf.parse_items(name, value, info)
            if not value and info.get("min_items"):
                raise ValueError(f"{info['label']}: give at least one value")
        if value in (None, "", []) and (info["nullable"] or info["kind"] in ("list", "string")):
            base.pop(name, None)
            continue
        base[name] = value
    base.pop("pos_weight", None)
    base.pop("seed", None)
    sweep = {
        "pos_weight": parse_list(values.get("pos_weight"), float, own_label("pos_weight", params)),
        **extra,
        "seed": parse_list(values.get("seed"), int, own_label("seed", params)),
    }
    spec = {"name": (values.get("name") or "").strip(), "base": base, "sweep": sweep}
    tags = [t.strip() for t in (values.get("tags") or "").split(",") if t.strip()]  # the API checks and lowercases them
    return spec | {"tags": tags} if tags else spec


def limit_errors(values: dict, params: dict[str, dict], sweep: dict[str, list] | None = None) -> dict[str, str]:
    """{parameter: 'give ...'} for the fields that break the catalog's limits and are used: shown
    for the chosen (or swept) data, model and loss, and not swept themselves (the sweep box holds
    the values then)."""
    sweep = sweep or {}
    taken = rf.choices(params, values, sweep)
    out = {}
    for name, info in params.items():
        if name in values and name not in sweep and info["section"] != "sweep" and rf.relevant(params, name, taken):
            problem = rf.limit_error(info, values[name])
            if problem:
                out[name] = problem
    pairing = rf.pairing_error(values, sweep)
    if pairing and "model" not in sweep and "model" in params:
        out.setdefault("model", pairing)
    return out


def listed(values) -> str:
    return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)


def clone_values(source: dict | None) -> dict:
    """What a cloned experiment puts in the form: its base run, weights, seeds, other axes and tags."""
    if not source:
        return {}
    spec = source.get("spec") or {}
    sweep = dict(spec.get("sweep") or {})
    base = spec.get("base") or {}
    return {
        "base": base,
        "name": f"{source.get('name', 'experiment')} (copy)",
        "tags": ", ".join(source.get("tags") or []),
        "weights": listed(sweep.pop("pos_weight", [base.get("pos_weight", 1.0)])),
        "seeds": listed(sweep.pop("seed", [base.get("seed", 0)])),
        "axes": list(sweep.items())[: len(AXES)],
    }
