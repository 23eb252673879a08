"""The worker's side of the store: an upload copied into its own data folder, checked by SHA-256."""

import hashlib

import pytest

from backend import datasets
from backend.db import session_scope
from backend.migrate import upgrade
from backend.models import DatasetBlob
from tests.backend.test_datasets_api import archive
from worker.engine.images import DatasetError
from worker.engine.spec import RunSpec


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade(url)
    return url


def folder_spec(dataset_id: int) -> RunSpec:
    return RunSpec(dataset="folder", dataset_id=dataset_id, classes=["ant", "bee"])


def test_a_copy_is_fetched_once_and_a_damaged_one_replaced(db, tmp_path):
    data = archive()
    with session_scope(db) as s:
        row = datasets.add(s, data, "a.tar.gz", None)
        local = datasets.materialize(s, folder_spec(row.id), tmp_path / "w")
    path = tmp_path / "w" / "store" / f"{hashlib.sha256(data).hexdigest()}.tar.gz"
    assert local.data_path == str(path) and path.read_bytes() == data
    path.write_bytes(b"damaged")
    with session_scope(db) as s:
        datasets.materialize(s, folder_spec(row.id), tmp_path / "w")
    assert path.read_bytes() == data and [p.name for p in path.parent.iterdir()] == [path.name]  # no partial left


def test_a_deleted_or_damaged_dataset_is_a_clear_error(db, tmp_path):
    with session_scope(db) as s:
        row = datasets.add(s, archive(), "a.tar.gz", None)
        s.get(DatasetBlob, row.sha256).data = b"not the same bytes"
        with pytest.raises(DatasetError, match=f"dataset_id {row.id}: its bytes are missing or damaged"):
            datasets.materialize(s, folder_spec(row.id), tmp_path / "w")
        with pytest.raises(DatasetError, match="dataset_id 77: not in the lab's store"):
            datasets.materialize(s, folder_spec(77), tmp_path / "w")


def test_a_registered_name_becomes_its_folder(db, tmp_path):
    with session_scope(db) as s:
        datasets.register(s, "ants", "/srv/ants", None)
        spec = RunSpec(dataset="folder", data_path="ants", classes=["ant", "bee"])
        assert datasets.materialize(s, spec, tmp_path).data_path == "/srv/ants"
        other = RunSpec(dataset="folder", data_path=str(tmp_path), classes=["ant", "bee"])
        assert datasets.materialize(s, other, tmp_path).data_path == str(tmp_path)
