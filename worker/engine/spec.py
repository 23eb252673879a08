"""The experiment spec: one pydantic model shared by the engine, the backend, the CLI and the dashboard.

A *run* is one training job (`RunSpec`, every parameter flat so that a sweep can vary any of them
and `runs.csv` gets one column per parameter). An *experiment* is a base run plus sweep axes; its
runs are the cartesian product of the axes.

Over 300 lines: the one definition of every run parameter, each with its limits and description
(the catalog serves its JSON schema, from which the form builds its controls and limits).
"""

from __future__ import annotations

import itertools
import math
import unicodedata
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

MAX_RUNS_PER_EXPERIMENT = 512

DATASETS_2D = ("blobs", "wang_gaussians", "moons")
IMAGE_DATASETS = ("cifar10", "folder")
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
DEFAULT_CLASSES = {"cifar10": ["cat", "dog"], "digits": ["3", "5"]}

Dataset = Literal[
    "blobs", "wang_gaussians", "moons", "digits", "cifar10", "folder", "table", "covariate_shift", "spurious"
]  # fmt: skip
# data sets of feature rows: no boundary grid, no image strip
FEATURE_DATASETS = ("table", "covariate_shift", "spurious")
GroupWeights = Literal["none", "inverse_frequency", "subsample"]
Model = Literal["logreg", "mlp", "convnet", "resnet"]
Loss = Literal["ce", "poly", "ldam", "la", "vs"]
ClassScheme = Literal["inverse_frequency", "effective_number"]
# each loss's own parameters (fields of RunSpec, with their defaults and limits there); the engines
# pass a run's `loss_params()` to losses.per_example_loss, the form shows each only with its loss
LOSS_PARAMS: dict[str, tuple[str, ...]] = {
    "ce": (), "poly": ("poly_alpha",), "ldam": ("ldam_max_margin", "ldam_scale"), "la": ("la_tau",), "vs": ("vs_gamma", "vs_tau"),
}  # fmt: skip
MAX_SEED = 2**32 - 1  # what every seeded generator the engine uses accepts (numpy's legacy one is the narrowest)
# strict: "5" and true are not epochs; no NaN or Infinity in any number (JSON's 1e400 arrives as Infinity)
STRICT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


def plain_text(text: str | None) -> str | None:
    """Text a database column, a log line and a JSON answer can all hold: no lone surrogates (not
    encodable as UTF-8), no NUL or other control characters."""
    for c in text or "":
        category = unicodedata.category(c)
        if category == "Cs":
            raise ValueError("must be valid Unicode text (it holds a lone surrogate)")
        if category == "Cc":
            raise ValueError(f"must not contain control characters (found U+{ord(c):04X})")
    return text


class RunSpec(BaseModel):
    """Everything one training run needs; defaults are the quick 2-D setting of docs/science.md.

    The built-in data sets are binary: `classes` is (negative, positive) and the positive class is
    the one whose importance weight varies (dog in the paper's cat-vs-dog experiment). A table may
    have any number of classes, weighted by `class_weights` (pos_weight weighs the second of two)."""

    model_config = STRICT

    # --- data
    dataset: Dataset = Field(
        "blobs",
        description="blobs / wang_gaussians / moons (2-D), digits (sklearn 8x8), cifar10, folder (<split>/<class>/*.jpg), table, covariate_shift, or spurious (2-D, a core and a spurious feature, 4 groups)",
    )
    classes: list[str] = Field(
        default_factory=list,
        description="(negative, positive) class names; default cat,dog for cifar10 and 3,5 for digits",
    )
    data_path: str | None = Field(
        None,
        max_length=1000,
        description="where cifar10 / folder data live (default: IWLAB_DATASETS); on a lab server the name of a folder an admin registered (iwlab data ls)",
    )
    dataset_id: int | None = Field(
        None,
        ge=1,
        le=2**31 - 1,
        description="a data set uploaded to the lab (iwlab data add): the folder dataset's image archive; workers fetch it from the lab's store",
    )
    # --- tables (dataset table; worker/engine/table.py): every other column is a numeric feature
    label_column: str = Field(
        "label",
        min_length=1,
        max_length=200,
        description="table: the column of class labels (any number of classes; class order: sorted, numerically where all are numbers)",
    )
    weight_column: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="table: a column of per-example importance weights (finite, >= 0)",
    )
    group_column: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="table: a column of group labels (not a feature): per-group accuracies and worst_group_acc on every split, and group_weights",
    )
    group_weights: GroupWeights = Field(
        "none",
        description="with group labels (group_column, or dataset spurious): inverse_frequency weighs each training example by 1 / its group's size (mean 1; times any class and per-example weights); subsample keeps, per data_seed, as many examples of every group as the smallest has (Idrissi et al. 2022)",
    )
    test_path: str | None = Field(
        None,
        max_length=1000,
        description="table: a table of test examples with the same columns (default: a stratified split of data_path)",
    )
    test_fraction: float = Field(
        0.25,
        gt=0,
        lt=1,
        description="table without test_path: share of each class held out as the test split (seeded by data_seed)",
    )
    target_path: str | None = Field(
        None,
        max_length=1000,
        description="table: a sample of the target distribution (the same feature columns; labels optional): evaluated as split 'target', and the sample example_weights: estimated learns from",
    )
    target_dataset_id: int | None = Field(
        None,
        ge=1,
        le=2**31 - 1,
        description="table: the target sample as an uploaded table (iwlab data add), instead of target_path",
    )
    example_weights: Literal["auto", "none", "column", "estimated", "given"] = Field(
        "auto",
        description="per-example weights: from weight_column, estimated as p_target(x) / p_source(x) by a calibrated logistic domain classifier on the target sample (target_path), the known density ratio (given: covariate_shift only), or none; auto = column if weight_column is set, else none",
    )
    weight_clip: float | None = Field(
        None,
        gt=0,
        le=1e6,
        description="per-example weights: clip each at this value (after self-normalising, if that is on)",
    )
    weight_normalise: bool = Field(
        False,
        description="per-example weights: divide by their mean (self-normalised), so they average 1 on the training set",
    )
    class_weights: dict[str, float] | ClassScheme = Field(
        default_factory=dict,
        description="weight per class label (classes not named keep 1), or a scheme: inverse_frequency, effective_number (Cui et al. 2019, with class_beta); a sweep axis like pos_weight, which it replaces for more than two classes",
    )
    class_beta: float = Field(
        0.9999,
        ge=0,
        lt=1,
        description="class_weights effective_number: weights (1 - beta) / (1 - beta ** n_c), summing to the number of classes",
    )
    n_train: int = Field(
        100,
        ge=2,
        le=100_000,
        description="training examples per class (capped by what the data set has; wang_gaussians: majority count, minority a tenth)",
    )
    n_test: int = Field(500, ge=1, le=100_000, description="test examples per class (the test split is balanced)")
    imbalance: float = Field(
        1.0, ge=1, le=1000, description="sub-sample the positive class to n_train / imbalance (1 = balanced)"
    )
    label_noise: float = Field(
        0.0,
        ge=0,
        lt=0.5,
        description="flip this share of the training labels (seeded by data_seed), so the classes overlap and a net that fits them overfits",
    )
    resample: bool = Field(
        False, description="over-sample with replacement in proportion to the weights instead of weighting the loss"
    )
    ood: int = Field(
        8000,
        ge=0,
        le=100_000,
        description="image data: also evaluate on this many test images of the other classes (out of domain; 0 = none)",
    )
    noise_images: int = Field(
        0, ge=0, le=10_000, description="image data: also evaluate on this many uniform-noise images"
    )
    noise: float = Field(
        1.0, gt=0, le=10, description="2-D: standard deviation of each blob (moons: of the added noise, scaled by 0.1)"
    )
    data_seed: int = Field(
        0,
        ge=0,
        le=MAX_SEED,
        description="seed of the data set and its sub-samples; runs that share it share their data",
    )
    # --- model
    model: Model = Field(
        "logreg", description="logistic regression, MLP, the Byrd & Lipton ConvNet, or the small ResNet"
    )
    hidden: list[int] = Field(default_factory=lambda: [64], description="MLP hidden widths", min_length=1, max_length=8)
    width: int = Field(64, ge=4, le=512, description="ConvNet / ResNet base channels (paper: 64)")
    dropout: float = Field(
        0.0, ge=0, lt=1, description="dropout on the MLP's hidden layers and the ConvNet's dense layers (paper: 0.5)"
    )
    batchnorm: bool = Field(False, description="BatchNorm in the MLP and the ResNet")
    # --- loss
    loss: Loss = Field("ce", description="cross-entropy, polynomially-tailed, LDAM, logit adjustment, or VS")
    pos_weight: float = Field(
        1.0, gt=0, le=1e6, description="importance weight of the positive class (the negative class keeps 1)"
    )
    weight_power: float = Field(1.0, ge=0, le=10, description="exponentiated weights: w ** k (Wang et al.)")
    loss_norm: Literal["sum", "mean"] = Field(
        "sum", description="divide the weighted loss by the batch's sum of weights or by its size"
    )
    poly_alpha: float = Field(1.0, gt=0, le=10, description="poly loss tail exponent")
    ldam_max_margin: float = Field(0.5, gt=0, le=10, description="LDAM: largest class margin")
    ldam_scale: float = Field(30.0, gt=0, le=100, description="LDAM: logit scale s")
    drw_epoch: int | None = Field(
        None, ge=0, le=100_000, description="deferred re-weighting: importance weights only from this epoch on"
    )
    la_tau: float = Field(1.0, ge=0, le=10, description="logit adjustment tau")
    vs_gamma: float = Field(0.3, ge=0, le=2, description="VS loss multiplicative exponent gamma (Kini et al.'s 0.3)")
    vs_tau: float = Field(1.0, ge=0, le=10, description="VS loss additive tau")
    # --- optimisation
    lr: float = Field(0.03, gt=0, le=100, description="SGD learning rate")
    momentum: float = Field(0.0, ge=0, lt=1, description="SGD momentum (paper: none)")
    schedule: Literal["constant", "cosine", "step"] = Field(
        "constant",
        description="learning-rate schedule (step: Cao et al.'s warm-up, x0.01 at 80% and x0.0001 at 90% of the epochs)",
    )
    batch_size: int = Field(8, ge=1, le=100_000, description="minibatch size")
    epochs: int = Field(200, ge=1, le=100_000, description="passes over the training set")
    weight_decay: float = Field(0.0, ge=0, le=10, description="L2 coefficient (coupled weight decay)")
    patience: int | None = Field(
        None,
        ge=1,
        le=100_000,
        description="early stopping: stop after this many epochs without a better validation loss",
    )
    val_fraction: float = Field(
        0.1, gt=0, lt=0.5, description="share of the training set held out for early stopping (only with patience)"
    )
    seed: int = Field(0, ge=0, le=MAX_SEED, description="seed of the initialisation and the minibatch order")
    # --- what to record
    eval_points: int = Field(
        0,
        ge=0,
        le=100_000,
        description="evaluate at about this many log-spaced epochs (0 = every epoch; the first and last always)",
    )
    # 2-D data only
    frames: int = Field(24, ge=2, le=200, description="boundary snapshots, at log-spaced epochs")
    grid: int = Field(64, ge=8, le=400, description="boundary grid resolution per axis")
    # remedies as published (Cao et al. 2019; Zhang et al. 2019)
    drw_beta: float | None = Field(
        0.9999,
        ge=0,
        lt=1,
        description="DRW: from drw_epoch on, class-balanced weights (1 - beta) / (1 - beta^n_c) summing to 2 replace pos_weight; None keeps pos_weight",
    )
    head: Literal["auto", "linear", "cosine"] = Field(
        "auto",
        description="last layer: cosine = normalised features and weights (Cao et al.'s LDAM head); auto = cosine for ldam, else linear",
    )
    fixup: bool = Field(
        False,
        description="ResNet without BatchNorm: Fixup initialisation (Zhang et al. 2019) instead of a plain network",
    )

    @field_validator(
        "classes", "data_path", "test_path", "target_path", "label_column", "weight_column", "group_column"
    )
    @classmethod
    def _plain_text(cls, value: list[str] | str | None) -> list[str] | str | None:
        for text in value if isinstance(value, list) else [value]:
            plain_text(text)
        return value

    @field_validator("class_weights")
    @classmethod
    def _class_weights(cls, weights: dict[str, float] | str) -> dict[str, float] | str:
        if isinstance(weights, str):
            return weights
        if len(weights) > 1000:
            raise ValueError("at most 1000 classes")
        for label, w in weights.items():
            plain_text(label)
            if not 0 < w <= 1e6:
                raise ValueError(f"class {label!r}: a weight must be > 0 and at most 1e6, got {w}")
        return weights

    @field_validator("hidden")
    @classmethod
    def _positive_widths(cls, widths: list[int]) -> list[int]:
        if any(w < 1 or w > 4096 for w in widths):
            raise ValueError("every hidden width must be between 1 and 4096")
        return widths

    @model_validator(mode="after")
    def _consistent(self) -> RunSpec:
        if self.class_weights and self.pos_weight != 1:
            raise ValueError("class_weights: give pos_weight or class_weights, not both")
        if self.dataset == "table":
            return self._table()
        for name in ("test_path", "target_path", "target_dataset_id", "weight_column", "group_column"):
            if getattr(self, name) is not None:
                raise ValueError(f"{name}: only for dataset table")
        if self.dataset == "spurious":
            return self._spurious()
        if self.group_weights != "none":
            raise ValueError(
                "group_weights: needs group labels (a table's group_column, or dataset spurious); this data set has none"
            )
        if self.dataset == "covariate_shift":
            return self._shifted()
        if self.example_weights not in ("auto", "none"):
            raise ValueError("example_weights: per-example weights are for datasets table and covariate_shift")
        if not self.classes:
            self.classes = list(DEFAULT_CLASSES.get(self.dataset, ["neg", "pos"]))
        if self.dataset in IMAGE_DATASETS and len(self.classes) > 2:
            self._many_classes()
        elif len(self.classes) != 2 or self.classes[0] == self.classes[1]:
            raise ValueError("classes: give two different class names (negative, positive)")
        if self.dataset == "cifar10" and not set(self.classes) <= set(CIFAR10_CLASSES):
            raise ValueError(f"classes: cifar10 classes are {', '.join(CIFAR10_CLASSES)}")
        if self.dataset == "digits" and not all(c in "0123456789" and len(c) == 1 for c in self.classes):
            raise ValueError("classes: digits classes are 0 to 9")
        unknown = sorted(set(self.class_weights) - set(self.classes)) if isinstance(self.class_weights, dict) else []
        if unknown:
            raise ValueError(f"class_weights: {', '.join(unknown)} not among the classes ({', '.join(self.classes)})")
        if self.model in ("convnet", "resnet") and self.dataset not in IMAGE_DATASETS:
            raise ValueError(f"model: {self.model} needs 32x32 images (dataset cifar10 or folder)")
        if self.fixup and (self.model != "resnet" or self.batchnorm):
            raise ValueError(
                "fixup: Fixup initialisation is for the ResNet without BatchNorm (model resnet, batchnorm false)"
            )
        if self.dataset == "folder" and not (self.data_path or self.dataset_id):
            raise ValueError(
                "data_path: the folder dataset needs the path of its <split>/<class>/*.jpg tree (or a dataset_id)"
            )
        if self.data_path and self.dataset_id:
            raise ValueError("dataset_id: give data_path or dataset_id, not both")
        return self

    def _many_classes(self) -> None:
        """Image data with K > 2 classes: imbalance is the long-tailed profile's ratio (first class
        largest, last `imbalance` times smaller), and the classes are weighted by class_weights."""
        if len(set(self.classes)) != len(self.classes):
            raise ValueError("classes: give different class names")
        if self.pos_weight != 1:
            raise ValueError(
                f"pos_weight: weighs the second of two classes; with {len(self.classes)} use class_weights"
            )
        if self.label_noise:
            raise ValueError("label_noise: flips labels between two classes")

    def _shifted(self) -> RunSpec:
        """Synthetic 2-D covariate shift (shift.py): n_train source examples, n_test in each of the
        source test and the target sets; weights none, given (the true ratio) or estimated."""
        if self.example_weights == "column":
            raise ValueError("example_weights: covariate_shift has no weight column (none, given or estimated)")
        return self._two_class_synthetic("covariate_shift is used as it is")

    def _spurious(self) -> RunSpec:
        """Synthetic spurious correlation (synthetic.make_spurious): two classes, each with a
        majority group (the spurious feature agrees) and a minority group; no other knobs."""
        if self.classes and (len(self.classes) != 2 or self.classes[0] in (self.classes[1], "pos")):
            raise ValueError("classes: give two different class names (negative, positive; the first not 'pos')")
        if self.example_weights not in ("auto", "none"):
            raise ValueError("example_weights: per-example weights are for datasets table and covariate_shift")
        return self._two_class_synthetic("spurious sets its groups' sizes itself")

    def _two_class_synthetic(self, why_fixed: str) -> RunSpec:
        """What the synthetic feature sets (covariate_shift, spurious) share: two classes (neg, pos
        by default), class_weights naming them, a feature model, and sizes they set themselves."""
        if not self.classes:
            self.classes = ["neg", "pos"]
        if len(self.classes) != 2 or self.classes[0] == self.classes[1]:
            raise ValueError("classes: give two different class names (negative, positive)")
        unknown = sorted(set(self.class_weights) - set(self.classes)) if isinstance(self.class_weights, dict) else []
        if unknown:
            raise ValueError(f"class_weights: {', '.join(unknown)} not among the classes ({', '.join(self.classes)})")
        if self.model not in ("logreg", "mlp"):
            raise ValueError(f"model: {self.model} needs 32x32 images (dataset cifar10 or folder)")
        for name, default in (("imbalance", 1.0), ("label_noise", 0.0)):
            if getattr(self, name) != default:
                raise ValueError(f"{name}: applies to the built-in data sets; {why_fixed}")
        return self

    def _table(self) -> RunSpec:
        """A table's classes come from its label column; `classes`, if given, picks and orders them."""
        if not (self.data_path or self.dataset_id):
            raise ValueError("data_path: dataset table needs the path of a CSV, Parquet or NPZ file (or a dataset_id)")
        if self.data_path and self.dataset_id:
            raise ValueError("dataset_id: give data_path or dataset_id, not both")
        if len(set(self.classes)) != len(self.classes) or len(self.classes) == 1:
            raise ValueError("classes: for a table, give none (all its classes) or at least two different labels")
        if self.model in ("convnet", "resnet"):
            raise ValueError(f"model: {self.model} needs 32x32 images; a table has feature columns (logreg or mlp)")
        columns = [c for c in (self.label_column, self.weight_column, self.group_column) if c is not None]
        if len(set(columns)) != len(columns):
            raise ValueError("weight_column: label_column, weight_column and group_column must be different columns")
        if self.group_weights != "none" and self.group_column is None:
            raise ValueError("group_weights: needs group_column (the table's column of group labels)")
        if self.example_weights == "column" and self.weight_column is None:
            raise ValueError("example_weights: column needs weight_column")
        if self.example_weights == "given":
            raise ValueError(
                "example_weights: given is the known density ratio of dataset covariate_shift; a table's are column or estimated"
            )
        if self.target_path and self.target_dataset_id:
            raise ValueError("target_dataset_id: give target_path or target_dataset_id, not both")
        if self.example_weights == "estimated" and self.target_path is None and self.target_dataset_id is None:
            raise ValueError(
                "example_weights: estimated needs target_path or target_dataset_id (a sample of the target distribution)"
            )
        for name, default in (("imbalance", 1.0), ("label_noise", 0.0)):
            if getattr(self, name) != default:
                raise ValueError(f"{name}: applies to the built-in data sets; a table is used as it is")
        return self

    @property
    def per_example(self) -> str:
        """Where the per-example weights come from: "none", "column" or "estimated"."""
        if self.example_weights == "auto":
            return "column" if self.weight_column else "none"
        return self.example_weights

    def loss_params(self) -> dict[str, float]:
        """This run's loss's own parameters, by name (LOSS_PARAMS)."""
        return {name: getattr(self, name) for name in LOSS_PARAMS[self.loss]}

    @property
    def is_2d(self) -> bool:
        return self.dataset in DATASETS_2D

    @property
    def cosine_head(self) -> bool:
        return self.head == "cosine" or (self.head == "auto" and self.loss == "ldam")


SWEEPABLE = tuple(RunSpec.model_fields)


class ExperimentSpec(BaseModel):
    """A base run and the axes to sweep; `runs()` expands them."""

    model_config = STRICT

    name: str = Field("untitled", min_length=1, max_length=200)
    base: RunSpec = Field(default_factory=RunSpec)
    sweep: dict[str, list[Any]] = Field(
        default_factory=lambda: {"pos_weight": [0.1, 1.0, 10.0], "seed": [0]},  # type: ignore[arg-type]  # mypy infers dict[str, object] for a lambda's literal
        description="parameter name -> values; the runs are the cartesian product",
    )

    @field_validator("name")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        plain_text(name)  # raises on what no column can hold
        return name

    @model_validator(mode="after")
    def _check_sweep(self) -> ExperimentSpec:
        count = 1
        for name, values in self.sweep.items():
            if name not in SWEEPABLE:
                shown = name[:40].encode("utf-8", "backslashreplace").decode()  # the member's text, perhaps not UTF-8
                raise ValueError(f"sweep.{shown}: not a run parameter (choose from {', '.join(SWEEPABLE)})")
            if not values:
                raise ValueError(f"sweep.{name}: needs at least one value")
            count *= len(values)
        if count > MAX_RUNS_PER_EXPERIMENT:
            raise ValueError(f"sweep: {count} runs, more than the limit of {MAX_RUNS_PER_EXPERIMENT}")
        self.runs()  # every combination must itself be a valid run
        return self

    def runs(self) -> list[RunSpec]:
        base = self.base.model_dump()
        names = list(self.sweep)
        runs = []
        for combo in itertools.product(*(self.sweep[n] for n in names)):
            try:
                runs.append(RunSpec.model_validate(base | dict(zip(names, combo))))
            except ValidationError as err:
                first = err.errors()[0]
                field = ".".join(str(p) for p in first["loc"])
                raise ValueError(f"sweep.{field}: {first['msg']}") from None
        return runs


def frame_epochs(epochs: int, frames: int) -> list[int]:
    """Log-spaced epochs (always 0, 1 and the last) at which the boundary is recorded."""
    if epochs <= 1:
        return list(range(epochs + 1))
    points = {0, 1, epochs}
    for k in range(frames - 1):
        points.add(round(math.exp(math.log(epochs) * k / (frames - 2))) if frames > 2 else epochs)
    return sorted(p for p in points if 0 <= p <= epochs)
