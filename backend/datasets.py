"""The lab's dataset store: uploaded files kept by their SHA-256, described once (rows, columns,
class counts; or an image archive's classes), and the folders on the workers that admins registered
by name. On a lab server a spec names its data by `dataset_id`, or by a registered folder's name in
`data_path`: members never choose a path on a worker (issue 14).

A worker reads an uploaded file from the database into its own data folder (`materialize`), so a
worker on any machine trains on it without a shared disk.

Over 300 lines: describing an upload, checking a spec's data against the store and copying a file
to a worker share one notion of what a dataset is and one set of errors.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tarfile
import zlib
from collections import Counter, defaultdict
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from worker.engine import table
from worker.engine.images import IMAGE_SUFFIXES, SPLITS, DatasetError, cifar10_present
from worker.engine.spec import ExperimentSpec, RunSpec

from .models import Dataset, DatasetBlob

KINDS = ("table", "images", "location")
LABEL_NAMES = ("label", "labels", "y", "target", "class")  # a table's label column when none is named
SUFFIX = {"csv": ".csv", "parquet": ".parquet", "npz": ".npz", "tar.gz": ".tar.gz"}


class BadDataset(ValueError):
    """An upload or a spec that names data wrongly: `field` says which input, the message why."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


# --- describing an upload ----------------------------------------------------------------------


def sniff(data: bytes, filename: str) -> str:
    """The file's format, from its first bytes (the name only tells CSV from other text)."""
    if data[:4] == b"PAR1":
        return "parquet"
    if data[:4] == b"PK\x03\x04":
        return "npz"
    if data[:2] == b"\x1f\x8b" or _is_tar(data):
        return "tar.gz"
    if filename.lower().endswith((".csv", ".txt", ".tsv")) or not filename:
        try:
            data[:65536].decode("utf-8")
            return "csv"
        except UnicodeDecodeError:
            pass
    raise BadDataset("file", "not a CSV, Parquet or NPZ table, nor a .tar.gz image archive")


def _is_tar(data: bytes) -> bool:
    return len(data) > 262 and data[257:262] == b"ustar"


def describe(data: bytes, fmt: str, label_column: str | None) -> tuple[str, dict[str, Any]]:
    """(kind, summary). Numbers that cannot be read are missing with a stated reason, never guessed."""
    if fmt == "tar.gz":
        return "images", _describe_archive(data)
    columns, labels, rows = {"csv": _csv_table, "npz": _npz_table, "parquet": _parquet_table}[fmt](data, label_column)
    summary: dict[str, Any] = {"rows": rows, "columns": columns}
    if rows == 0:
        raise BadDataset("file", "the table has no rows")
    label = label_column or next((c for c in columns if c.lower() in LABEL_NAMES), None)
    if label_column and label_column not in columns:
        raise BadDataset("label_column", f"no column {label_column!r} (columns: {', '.join(columns[:20])})")
    if label is None:
        summary["class_counts"] = None
        summary["missing"] = (
            f"class counts: no label column (name one with label_column; looked for {', '.join(LABEL_NAMES)})"
        )
    else:
        summary["label_column"] = label
        summary["class_counts"] = dict(sorted(Counter(str(v) for v in labels(label)).items()))
    return "table", summary


def _csv_table(data: bytes, _label: str | None):
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise BadDataset("file", f"CSV is not UTF-8 text (byte {err.start})") from None
    try:
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        body = list(reader)
    except csv.Error as err:
        raise BadDataset("file", f"not a readable CSV ({err})") from None
    if not header or len(set(header)) != len(header):
        raise BadDataset("file", "a CSV needs a header row of distinct column names")
    body = [row for row in body if row]
    for i, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise BadDataset("file", f"row {i} has {len(row)} fields, the header {len(header)}")
    return header, lambda name: [row[header.index(name)] for row in body], len(body)


def _npz_table(data: bytes, _label: str | None):
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:  # never unpickle an upload
            arrays = {k: npz[k] for k in npz.files}
    except Exception as err:  # noqa: BLE001 -- numpy and zipfile raise many types on a malformed file; all mean "unreadable"
        raise BadDataset("file", f"not a readable NPZ of plain arrays ({type(err).__name__}: {err})") from None
    if not arrays:
        raise BadDataset("file", "the NPZ holds no arrays")
    odd = [k for k, a in arrays.items() if not isinstance(a, np.ndarray) or a.ndim == 0]
    if odd:
        raise BadDataset("file", f"NPZ member {odd[0]!r} is not an array with one row per example")
    lengths = {len(a) for a in arrays.values()}
    if len(lengths) != 1:
        raise BadDataset(
            "file", "the NPZ's arrays differ in length: " + ", ".join(f"{k} {a.shape}" for k, a in arrays.items())
        )
    return list(arrays), lambda name: arrays[name].ravel().tolist(), lengths.pop()


def _parquet_table(data: bytes, _label: str | None):
    import pyarrow.parquet as pq  # imported here: ~0.15 s that other uploads need not pay

    try:
        table = pq.read_table(io.BytesIO(data))
    except Exception as err:  # noqa: BLE001 -- pyarrow raises its own error types for bad files
        raise BadDataset("file", f"not a readable Parquet file ({err})") from None
    return table.column_names, lambda name: table.column(name).to_pylist(), table.num_rows


def _describe_archive(data: bytes) -> dict[str, Any]:
    """An image archive's `<split>/<class>/*.jpg` counts, read from its member list (nothing decoded)."""
    counts: dict[str, Counter] = defaultdict(Counter)
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            for member in tar:
                parts = PurePosixPath(member.name).parts
                if (
                    member.isfile()
                    and len(parts) in (3, 4)
                    and parts[-3] in SPLITS
                    and parts[-1].lower().endswith(IMAGE_SUFFIXES)
                ):
                    counts[parts[-3]][parts[-2]] += 1
    except (tarfile.TarError, OSError, EOFError, zlib.error) as err:
        raise BadDataset("file", f"not a readable .tar.gz ({err})") from None
    classes = sorted({c for split in counts.values() for c in split})
    if "train" not in counts or len(classes) < 2:
        raise BadDataset(
            "file", "an image archive needs train/<class>/*.jpg (and test/<class>/*.jpg) with at least two classes"
        )
    return {"classes": classes, "images": {split: dict(sorted(counts[split].items())) for split in SPLITS}}


# --- the store ---------------------------------------------------------------------------------


def add(session: Session, data: bytes, name: str, owner_id: int | None, label_column: str | None = None) -> Dataset:
    """Describe and store an upload; the same bytes are stored once however often they come."""
    fmt = sniff(data, name)
    kind, summary = describe(data, fmt, label_column)
    digest = hashlib.sha256(data).hexdigest()
    if session.get(DatasetBlob, digest) is None:
        session.add(DatasetBlob(sha256=digest, data=data))
    row = Dataset(
        name=name or f"{digest[:12]}{SUFFIX[fmt]}",
        kind=kind,
        format=fmt,
        sha256=digest,
        size=len(data),
        summary=summary,
        owner_id=owner_id,
    )
    session.add(row)
    session.flush()
    return row


def register(session: Session, name: str, path: str, owner_id: int | None) -> Dataset:
    """An admin names a folder (or archive) on the workers; members then train on it by that name."""
    if not name or "/" in name or name.startswith((".", "~")):
        raise BadDataset("name", "a location's name is a plain word (no '/'), not a path")
    if not os.path.isabs(path):
        raise BadDataset("path", "give the absolute path of the folder on the workers")
    if session.scalar(select(Dataset).where(Dataset.kind == "location", Dataset.name == name)) is not None:
        raise BadDataset("name", f"a location named {name!r} exists already")
    row = Dataset(name=name, kind="location", path=path, summary={}, owner_id=owner_id)
    session.add(row)
    session.flush()
    return row


def listing(session: Session) -> list[Dataset]:
    return list(session.scalars(select(Dataset).order_by(Dataset.id)))


def remove(session: Session, row: Dataset) -> None:
    """Delete the row, and its bytes once no other row holds them."""
    digest = row.sha256
    session.delete(row)
    session.flush()
    if digest and not session.scalar(select(func.count()).select_from(Dataset).where(Dataset.sha256 == digest)):
        session.execute(delete(DatasetBlob).where(DatasetBlob.sha256 == digest))


def check_spec(session: Session, spec: ExperimentSpec, lab: bool) -> None:
    """Every run's data must exist in the store; on a lab server (`lab`) a data_path (any *_path)
    must be a registered location, by name or by its path."""
    locations = {row.name: row.path for row in session.scalars(select(Dataset).where(Dataset.kind == "location"))}
    for run in spec.runs():
        if run.dataset_id is not None:
            row = session.get(Dataset, run.dataset_id)
            if row is None or row.kind == "location":
                raise BadDataset("dataset_id", f"no uploaded dataset {run.dataset_id} (see iwlab data ls)")
            wanted = {"folder": "images", "table": "table"}.get(run.dataset)
            if wanted is None:
                raise BadDataset(
                    "dataset_id",
                    f"dataset {run.dataset} does not read uploaded data (folder reads an image archive, table a table)",
                )
            if row.kind != wanted:
                raise BadDataset(
                    "dataset_id",
                    f"dataset {run.dataset_id} is {'an image archive' if row.kind == 'images' else 'a table'}; dataset {run.dataset} needs {'an image archive' if wanted == 'images' else 'a table'}",
                )
        if run.target_dataset_id is not None:
            row = session.get(Dataset, run.target_dataset_id)
            if row is None or row.kind != "table":
                raise BadDataset("target_dataset_id", f"no uploaded table {run.target_dataset_id} (see iwlab data ls)")
        # every path field (data_path, and any *_path a spec grows), not only today's
        paths = {k: v for k, v in run.model_dump().items() if k.endswith("_path") and v is not None} if lab else {}
        for field, value in paths.items():
            if value not in locations and value not in locations.values():
                names = ", ".join(sorted(locations)) or "none yet; an admin adds them with iwlab data register"
                raise BadDataset(
                    field,
                    f"on a lab server {field} names a registered location ({names}) or use dataset_id; paths are not accepted",
                )
    checked: set[str] = set()
    for run in spec.runs():
        key = json.dumps([getattr(run, f) for f in table.PARSED_FIELDS], sort_keys=True)
        if run.dataset == "table" and key not in checked:
            checked.add(key)
            check_table(session, run, locations)


class _OnTheWorkers(Exception):
    """A registered location this machine cannot see: the workers read (and check) it."""


def check_table(session: Session, run: RunSpec, locations: dict[str, str | None]) -> None:
    """Read and check a table run's files as the worker will (the upload from the store, a
    location by its path), so a bad table is a 422 naming the field, and nothing is queued. A
    location the API's machine does not have is left to the worker (its error fails the run)."""

    def opener(field: str, value: str | None) -> table.Source:
        stored = {
            "data_path": ("dataset_id", run.dataset_id),
            "target_path": ("target_dataset_id", run.target_dataset_id),
        }.get(field)
        if stored is not None and stored[1] is not None:
            row = session.get(Dataset, stored[1])
            blob = session.get(DatasetBlob, row.sha256) if row is not None and row.sha256 else None
            if row is None or blob is None:
                raise BadDataset(stored[0], f"dataset {stored[1]}: its bytes are missing from the lab's store")
            return blob.data, f"dataset {stored[1]} ({row.name})"
        path = (locations.get(value) if value else None) or value
        if path is None:  # parse opens only the paths a spec sets
            raise BadDataset(field, f"{field}: not set")
        if (value in locations or value in locations.values()) and not Path(path).is_file():
            raise _OnTheWorkers
        return table.open_file(field, path)

    try:
        table.check(run, opener)
    except table.TableError as err:
        raise BadDataset(err.field, str(err)) from None
    except _OnTheWorkers:
        pass


# --- the worker's side -------------------------------------------------------------------------


def materialize(session: Session, spec: RunSpec, root: Path) -> RunSpec:
    """The spec with a local data_path: an uploaded dataset copied from the store into `root`/store
    (verified by its SHA-256, written under a temporary name then renamed), or a registered
    location's folder; a table's target sample named by target_dataset_id likewise in target_path."""
    spec = _located(session, spec)
    update = {}
    if spec.dataset_id is not None:
        update["data_path"] = str(_copy(session, spec.dataset_id, root, "dataset_id"))
    if spec.target_dataset_id is not None:
        update["target_path"] = str(_copy(session, spec.target_dataset_id, root, "target_dataset_id"))
    return spec.model_copy(update=update) if update else spec


def _copy(session: Session, dataset_id: int, root: Path, field: str) -> Path:
    row = session.get(Dataset, dataset_id)
    if row is None or row.sha256 is None:
        raise DatasetError(f"{field} {dataset_id}: not in the lab's store (deleted?)")
    local = root / "store" / f"{row.sha256}{SUFFIX.get(row.format or '', '')}"
    if not (local.is_file() and _sha256(local) == row.sha256):
        blob = session.get(DatasetBlob, row.sha256)
        if blob is None or hashlib.sha256(blob.data).hexdigest() != row.sha256:
            raise DatasetError(f"{field} {dataset_id}: its bytes are missing or damaged in the lab's store")
        local.parent.mkdir(parents=True, exist_ok=True)
        partial = local.with_name(f"{local.name}.partial-{os.getpid()}")
        partial.write_bytes(blob.data)
        partial.replace(local)
    return local


def _located(session: Session, spec: RunSpec) -> RunSpec:
    """Every *_path that names a registered location replaced by the location's path."""
    update = {}
    for field, value in spec.model_dump().items():
        if field.endswith("_path") and value is not None:
            location = session.scalar(select(Dataset).where(Dataset.kind == "location", Dataset.name == value))
            if location is not None:
                update[field] = location.path
    return spec.model_copy(update=update) if update else spec


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def downloaded(settings) -> dict[str, bool]:
    """Which downloadable data sets are in the data folder (of this machine: the embedded stack's
    worker, or a lab server whose workers share the folder)."""
    return {"cifar10": cifar10_present(settings.datasets_dir)}


def local_data(settings, spec: RunSpec) -> RunSpec:
    """`materialize` for a worker: its own database session and data folder (IWLAB_DATASETS)."""
    if (
        spec.dataset_id is None
        and spec.target_dataset_id is None
        and not any(v for k, v in spec.model_dump().items() if k.endswith("_path"))
    ):
        return spec
    from .db import session_scope

    with session_scope(settings.db_url) as session:
        return materialize(session, spec, settings.datasets_dir)
