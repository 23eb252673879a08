"""Tabular data (`dataset: table`): a CSV, Parquet or NPZ file with a label column, optional weight
and group columns, and every other column a numeric feature.

Each check that can fail names the file, the column or row, and the reason, as a `TableError`
whose `field` is the spec field to blame: the API answers 422 with it and the CLI exits 2, before
anything is queued or trained. The test split is `test_path` or a seeded stratified share of the
file; features are standardised with the training split's mean and standard deviation.

Over 300 lines: one reader per file format and the checks every table gets, each with the error
that names the file, column or row.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .images import DatasetError

MAX_CLASSES = 1000
MAX_LABEL = 48  # a label names metrics (frac_pred_<label>), which the database keeps in 64 characters
Source = tuple[bytes, str]  # (file contents, the name errors call it by)
Opener = Callable[[str, str], Source]  # (spec field, its value) -> Source


class TableError(DatasetError):
    """A table that cannot be trained on; `field` is the spec field whose file or column is at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Table:
    name: str
    columns: dict[str, list | np.ndarray]  # column -> its values, one per row
    csv: bool  # CSV rows are named by their line (the header is line 1), others by their index

    @property
    def rows(self) -> int:
        return len(next(iter(self.columns.values())))

    def where(self, i: int) -> str:
        return f"line {i + 2}" if self.csv else f"row {i}"


@dataclass(frozen=True)
class Parsed:
    """A spec's tables, checked: float64 features (not yet standardised), labels as class indices."""

    classes: tuple[str, ...]
    features: tuple[str, ...]
    x_train: np.ndarray
    y_train: np.ndarray
    w_train: np.ndarray | None  # weight_column's values
    g_train: np.ndarray | None  # group_column's values, as text
    x_test: np.ndarray
    y_test: np.ndarray
    g_test: np.ndarray | None  # the test split's groups (test_path's group_column, or the held-out rows')
    x_target: np.ndarray | None
    y_target: np.ndarray | None  # None: the target sample has no (usable) labels


def open_file(field: str, path: str) -> Source:
    try:
        return Path(path).read_bytes(), path
    except OSError as err:
        raise TableError(field, f"{field}: cannot read {path}: {err.strerror}") from None


def read(source: Source, field: str) -> Table:
    """Parse a CSV, NPZ or Parquet file (told apart by their first bytes)."""
    data, name = source
    if data[:4] == b"PAR1":
        return _parquet(data, name, field)
    if data[:4] == b"PK\x03\x04":
        return _npz(data, name, field)
    return _csv(data, name, field)


def _csv(data: bytes, name: str, field: str) -> Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise TableError(
            field, f"{name}: not UTF-8 text (byte {err.start}); a table is a CSV, Parquet or NPZ file"
        ) from None
    try:
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        body = [row for row in reader if row]
    except csv.Error as err:
        raise TableError(field, f"{name}: not a readable CSV ({err})") from None
    header = [h.strip() for h in header or []]
    if not header or len(set(header)) != len(header) or "" in header:
        raise TableError(field, f"{name}: a CSV needs a header row of distinct, non-empty column names")
    for i, row in enumerate(body):
        if len(row) != len(header):
            raise TableError(field, f"{name}: line {i + 2} has {len(row)} fields, the header {len(header)}")
    if not body:
        raise TableError(field, f"{name}: the table has no rows")
    return Table(name, {h: [row[j].strip() for row in body] for j, h in enumerate(header)}, csv=True)


def _npz(data: bytes, name: str, field: str) -> Table:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:  # never unpickle a file
            arrays = {k: npz[k] for k in npz.files}
    except Exception as err:  # noqa: BLE001 -- numpy and zipfile raise many types on a malformed file; all mean "unreadable"
        raise TableError(field, f"{name}: not a readable NPZ of plain arrays ({type(err).__name__}: {err})") from None
    columns: dict[str, list | np.ndarray] = {}
    for key, a in arrays.items():
        if a.ndim == 1:
            columns[key] = a
        elif a.ndim == 2:  # a feature matrix: one column per feature, named key[j]
            columns.update({f"{key}[{j}]": a[:, j] for j in range(a.shape[1])})
        else:
            raise TableError(
                field,
                f"{name}: NPZ member {key!r} has shape {a.shape}; give 1-D columns or a 2-D (rows, features) matrix",
            )
    lengths = {len(a) for a in columns.values()}
    if not columns or lengths == {0}:
        raise TableError(field, f"{name}: the table has no rows")
    if len(lengths) != 1:
        raise TableError(
            field,
            f"{name}: the NPZ's arrays differ in length: " + ", ".join(f"{k} {a.shape}" for k, a in arrays.items()),
        )
    return Table(name, columns, csv=False)


def _parquet(data: bytes, name: str, field: str) -> Table:
    import pyarrow.parquet as pq  # imported here: ~0.15 s that CSV and NPZ runs need not pay

    try:
        table = pq.read_table(io.BytesIO(data))
    except Exception as err:  # noqa: BLE001 -- pyarrow raises its own error types for bad files
        raise TableError(field, f"{name}: not a readable Parquet file ({err})") from None
    if table.num_rows == 0:
        raise TableError(field, f"{name}: the table has no rows")
    return Table(
        name, {c: np.asarray(table.column(c).to_pylist(), dtype=object) for c in table.column_names}, csv=False
    )


def column(table: Table, name: str, field: str) -> list | np.ndarray:
    if name not in table.columns:
        shown = ", ".join(list(table.columns)[:20])
        raise TableError(field, f"{table.name}: no column {name!r} ({field}; the columns are {shown})")
    return table.columns[name]


def numbers(table: Table, name: str, field: str) -> np.ndarray:
    """A column as float64; a value that is not a number is an error naming its row."""
    values = table.columns[name]
    if isinstance(values, np.ndarray) and values.dtype.kind in "biuf":
        return values.astype(np.float64)
    out = np.empty(len(values))
    for i, v in enumerate(values):
        try:
            out[i] = float(v)
        except (TypeError, ValueError):
            raise TableError(
                field, f"{table.name}: column {name!r}, {table.where(i)}: {str(v)[:40]!r} is not a number"
            ) from None
    return out


def features(table: Table, names: tuple[str, ...], field: str) -> np.ndarray:
    missing = [n for n in names if n not in table.columns]
    if missing:
        raise TableError(
            field,
            f"{table.name}: no feature column {missing[0]!r} (the training table's features are {', '.join(names[:20])})",
        )
    x = np.stack([numbers(table, n, field) for n in names], 1) if names else np.zeros((table.rows, 0))
    bad = np.argwhere(~np.isfinite(x))
    if len(bad):
        i, j = bad[0]
        raise TableError(
            field, f"{table.name}: column {names[j]!r}, {table.where(int(i))}: {x[i, j]} is not a finite number"
        )
    return x


def labels(table: Table, name: str, field: str, what: str = "label") -> list[str]:
    values = column(table, name, field)
    if (
        isinstance(values, np.ndarray)
        and values.dtype.kind == "f"
        and np.all(np.isfinite(values))
        and np.all(values == np.round(values))
    ):
        values = values.astype(np.int64)  # 0.0 / 1.0 in an NPZ are the classes 0 and 1
    out = [str(v) for v in values]
    for i, v in enumerate(out):
        if v == "" or v.lower() in ("nan", "none"):
            raise TableError(field, f"{table.name}: column {name!r}, {table.where(i)}: the {what} is missing")
    return out


def group_labels(table: Table, name: str, field: str) -> np.ndarray:
    """A group column as text, each name short enough for the metric it names (acc_group_<name>)."""
    values = np.asarray(labels(table, name, field, what="group"))
    long = next((i for i, v in enumerate(values) if len(v) > MAX_LABEL), None)
    if long is not None:
        raise TableError(
            field,
            f"{table.name}: column {name!r}, {table.where(long)}: the group {values[long][:60]!r} is longer than {MAX_LABEL} characters (metric names carry it)",
        )
    return values


def class_order(names: set[str]) -> tuple[str, ...]:
    """Sorted, numerically where every label is a number (so 2 comes before 10)."""
    try:
        return tuple(sorted(names, key=float))
    except ValueError:
        return tuple(sorted(names))


def weights(table: Table, name: str) -> np.ndarray:
    field = "weight_column"
    column(table, name, field)
    w = numbers(table, name, field)
    for test, reason in ((np.isnan(w), "is NaN"), (np.isinf(w), "is not finite"), (w < 0, "is negative")):
        if test.any():
            i = int(np.argmax(test))
            raise TableError(
                field,
                f"{table.name}: column {name!r}, {table.where(i)}: the weight {reason} ({w[i]}); weights must be finite and >= 0",
            )
    if not (w > 0).any():
        raise TableError(field, f"{table.name}: column {name!r}: every weight is 0")
    return w


def parse(spec, opener: Opener = open_file) -> Parsed:
    """Read and check a table run's files (spec: a RunSpec with dataset table and a data_path)."""
    train = read(opener("data_path", spec.data_path), "data_path")
    y_names = labels(train, spec.label_column, "label_column")
    reserved = {c for c in (spec.label_column, spec.weight_column, spec.group_column) if c}
    names = tuple(c for c in train.columns if c not in reserved)
    if not names:
        raise TableError(
            "data_path",
            f"{train.name}: no feature columns (every column but {', '.join(sorted(reserved))} is a feature)",
        )
    x = features(train, names, "data_path")
    w = weights(train, spec.weight_column) if spec.weight_column else None
    g = group_labels(train, spec.group_column, "group_column") if spec.group_column else None
    present = set(y_names)
    if spec.classes:
        absent = [c for c in spec.classes if c not in present]
        if absent:
            raise TableError(
                "classes", f"{train.name}: no examples of class {absent[0]!r} in column {spec.label_column!r}"
            )
        classes = tuple(spec.classes)
    else:
        classes = class_order(present)
    if len(classes) < 2:
        raise TableError(
            "label_column",
            f"{train.name}: column {spec.label_column!r} holds a single class ({classes[0]!r}); a classifier needs at least two",
        )
    if len(classes) > MAX_CLASSES:
        raise TableError(
            "label_column",
            f"{train.name}: column {spec.label_column!r} holds {len(classes)} classes, more than {MAX_CLASSES}",
        )
    long = next((c for c in classes if len(c) > MAX_LABEL), None)
    if long is not None:
        raise TableError(
            "label_column",
            f"{train.name}: the label {long[:60]!r} is longer than {MAX_LABEL} characters (metric names carry it)",
        )
    if len(classes) == 2 and classes[0] == "pos":
        raise TableError(
            "label_column",
            f"{train.name}: the first of two classes must not be called 'pos' (frac_pred_pos means the second)",
        )
    check_weights(spec, classes, train.name)
    keep = np.asarray([v in classes for v in y_names])  # spec.classes may pick some of the classes
    y = np.asarray([classes.index(v) if k else -1 for v, k in zip(y_names, keep)], np.int64)
    x, y = x[keep], y[keep]
    w = None if w is None else w[keep]
    g = None if g is None else g[keep]
    if spec.test_path:
        test = read(opener("test_path", spec.test_path), "test_path")
        y_test_names = labels(test, spec.label_column, "test_path")
        x_test = features(test, names, "test_path")
        unknown = sorted(set(y_test_names) - set(classes))
        if unknown and not spec.classes:
            raise TableError("test_path", f"{test.name}: class {unknown[0]!r} is not in the training table")
        kept = np.asarray([v in classes for v in y_test_names])
        x_test, y_test = x_test[kept], np.asarray([classes.index(v) for v, k in zip(y_test_names, kept) if k], np.int64)
        g_test = group_labels(test, spec.group_column, "test_path")[kept] if spec.group_column else None
        train_idx = np.arange(len(y))
    else:
        train_idx, test_idx = stratified_split(y, classes, spec.test_fraction, spec.data_seed, train.name)
        x_test, y_test = x[test_idx], y[test_idx]
        g_test = None if g is None else g[test_idx]
    if not len(y_test):
        raise TableError("test_path", f"{spec.test_path}: no test examples of the classes {', '.join(classes[:20])}")
    x_target = y_target = None
    if spec.target_path or spec.target_dataset_id is not None:
        target = read(opener("target_path", spec.target_path), "target_path")
        x_target = features(target, names, "target_path")
        if spec.label_column in target.columns:
            t_names = labels(target, spec.label_column, "target_path")
            if set(t_names) <= set(classes):
                y_target = np.asarray([classes.index(v) for v in t_names], np.int64)
    return Parsed(
        classes, names, x[train_idx], y[train_idx], None if w is None else w[train_idx], None if g is None else g[train_idx],
        x_test, y_test, g_test, x_target, y_target,
    )  # fmt: skip


def check_weights(spec, classes: tuple[str, ...], name: str) -> None:
    unknown = sorted(set(spec.class_weights) - set(classes)) if isinstance(spec.class_weights, dict) else []
    if unknown:
        raise TableError(
            "class_weights",
            f"{name}: class_weights: {', '.join(unknown[:5])} not among the table's classes ({', '.join(classes[:20])})",
        )
    if len(classes) > 2 and spec.pos_weight != 1:
        raise TableError(
            "pos_weight",
            f"{name}: pos_weight weighs the second of two classes; this table has {len(classes)}, so use class_weights",
        )


def stratified_split(
    y: np.ndarray, classes: tuple[str, ...], fraction: float, seed: int, name: str
) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) indices, sorted: a seeded `fraction` of each class (at least one, never all)."""
    rng = np.random.default_rng([seed, 8])
    train, test = [], []
    for c, label in enumerate(classes):
        idx = rng.permutation(np.flatnonzero(y == c))
        if len(idx) < 2:
            raise TableError(
                "test_fraction",
                f"{name}: class {label!r} has {len(idx)} example; a stratified test split needs 2 per class (or give test_path)",
            )
        k = min(max(1, round(fraction * len(idx))), len(idx) - 1)
        test.append(idx[:k])
        train.append(idx[k:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def standardise(x_train: np.ndarray, *others: np.ndarray | None) -> list[np.ndarray | None]:
    """Centre and scale by the training split's statistics; a constant column is only centred."""
    mean, sd = x_train.mean(0), x_train.std(0)
    sd = np.where(sd > 0, sd, 1.0)
    return [None if x is None else (x - mean) / sd for x in (x_train, *others)]


def check(spec, opener: Opener = open_file) -> None:
    """Everything `parse` checks, for a caller about to queue or train the run."""
    parse(spec, opener)


# what `parse` reads from a spec: runs equal in these are checked once
PARSED_FIELDS = ("data_path", "dataset_id", "test_path", "target_path", "target_dataset_id", "label_column", "weight_column", "group_column",
                 "classes", "class_weights", "pos_weight", "test_fraction", "data_seed")  # fmt: skip


def check_runs(runs, opener: Opener = open_file) -> None:
    """`check` every table run of an experiment (each distinct table once) before any is trained."""
    seen: set[str] = set()
    for run in runs:
        if run.dataset != "table":
            continue
        for field, path in (("dataset_id", "data_path"), ("target_dataset_id", "target_path")):
            if opener is open_file and getattr(run, field) is not None and not getattr(run, path):
                raise TableError(
                    field,
                    f"{field} {getattr(run, field)}: uploaded datasets are read by the lab's workers (iwlab submit), not in-process",
                )
        key = json.dumps([getattr(run, f) for f in PARSED_FIELDS], sort_keys=True)
        if key not in seen:
            seen.add(key)
            check(run, opener)
