"""The lab's dataset store through the API, on SQLite and Postgres: uploads described and kept by
content, who may delete, and (issue 14) no member-chosen paths on a lab server."""

import hashlib
import io
import tarfile
from collections import Counter

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from backend import auth
from backend.app import create_app
from backend.db import session_scope
from backend.models import DatasetBlob, Experiment
from backend.settings import Settings

LABELS = ["a", "b", "a", "c", "a", "b"]


def csv_bytes(labels=LABELS) -> bytes:
    lines = ["x1,x2,label"] + [f"{i},{i * 0.5},{lab}" for i, lab in enumerate(labels)]
    return ("\n".join(lines) + "\n").encode()


def archive(classes=("ant", "bee"), per_split=(("train", 3), ("test", 2))) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for split, n in per_split:
            for cls in classes:
                for k in range(n):
                    info = tarfile.TarInfo(f"top/{split}/{cls}/{k}.jpg")
                    info.size = 3
                    tar.addfile(info, io.BytesIO(b"jpg"))
        info = tarfile.TarInfo("top/README.txt")  # not an image: not counted
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    return buf.getvalue()


def upload(client, data: bytes, name: str, **params):
    return client.post("/api/v1/datasets", params={"name": name, **params}, content=data)


def blobs(settings) -> int:
    with session_scope(settings.db_url) as s:
        return s.scalars(select(func.count()).select_from(DatasetBlob)).one()


def test_a_csv_is_described_listed_served_and_stored_once(client, settings):
    data = csv_bytes()
    first = upload(client, data, "shift.csv")
    assert first.status_code == 201, first.text
    row = first.json()
    assert row["kind"] == "table" and row["format"] == "csv" and row["size"] == len(data)
    assert row["sha256"] == hashlib.sha256(data).hexdigest()
    assert row["summary"]["rows"] == len(LABELS) and row["summary"]["columns"] == ["x1", "x2", "label"]
    assert row["summary"]["class_counts"] == dict(Counter(LABELS))
    assert client.get(f"/api/v1/datasets/{row['id']}").json()["summary"] == row["summary"]
    assert client.get(f"/api/v1/datasets/{row['id']}/file").content == data
    again = upload(client, data, "copy.csv").json()
    assert again["id"] != row["id"] and again["sha256"] == row["sha256"]
    assert [d["name"] for d in client.get("/api/v1/datasets").json()] == ["shift.csv", "copy.csv"]
    assert blobs(settings) == 1  # content-addressed: one copy of the bytes


def test_npz_and_image_archives_are_described(client):
    x, y = np.arange(30.0).reshape(10, 3), np.array([0, 1, 1, 2, 2, 2, 0, 1, 2, 2])
    buf = io.BytesIO()
    np.savez(buf, x=x, y=y)
    npz = upload(client, buf.getvalue(), "d.npz").json()
    assert npz["format"] == "npz" and npz["summary"]["rows"] == 10
    assert npz["summary"]["label_column"] == "y" and npz["summary"]["class_counts"] == {"0": 2, "1": 3, "2": 5}
    images = upload(client, archive(), "ants.tar.gz").json()
    assert images["kind"] == "images" and images["summary"]["classes"] == ["ant", "bee"]
    assert images["summary"]["images"] == {"train": {"ant": 3, "bee": 3}, "test": {"ant": 2, "bee": 2}}


def test_a_table_without_a_label_column_says_why_its_class_counts_are_missing(client):
    row = upload(client, b"u,v\n1,2\n3,4\n", "plain.csv").json()
    assert row["summary"]["rows"] == 2 and row["summary"]["class_counts"] is None
    assert "no label column" in row["summary"]["missing"]
    named = upload(client, b"u,v\n1,2\n3,4\n", "plain.csv", label_column="v").json()
    assert named["summary"]["class_counts"] == {"2": 1, "4": 1}


@pytest.mark.parametrize(
    ("data", "params", "where", "message"),
    [
        (bytes(range(256)) * 4, {}, ["body"], "not a CSV, Parquet or NPZ"),
        (b"", {}, ["body"], "empty"),
        (b"a,b\n1,2,3\n", {}, ["body"], "row 2 has 3 fields"),
        (csv_bytes(), {"label_column": "nope"}, ["query", "label_column"], "no column 'nope'"),
        (b"\x1f\x8b not really gzip", {}, ["body"], "not a readable .tar.gz"),
    ],
    ids=["binary", "empty", "ragged", "unknown-label-column", "broken-gzip"],
)
def test_bad_uploads_are_a_422_naming_the_input_and_store_nothing(client, settings, data, params, where, message):
    resp = upload(client, data, "bad.csv", **params)
    assert resp.status_code == 422, resp.text
    detail = resp.json()["detail"][0]
    assert detail["loc"] == where and message in detail["msg"]
    assert client.get("/api/v1/datasets").json() == [] and blobs(settings) == 0


def test_a_pickled_npz_is_refused_unread(client):
    buf = io.BytesIO()
    np.savez(buf, x=np.array([object()], dtype=object))
    resp = upload(client, buf.getvalue(), "evil.npz")
    assert resp.status_code == 422 and "plain arrays" in resp.json()["detail"][0]["msg"]


def test_uploads_have_their_own_size_limit(tmp_path):
    settings = Settings(
        home=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        max_body_bytes=1024,
        max_dataset_bytes=200_000,
    )
    with TestClient(create_app(settings)) as client:
        big = csv_bytes(["a", "b"] * 5000)  # ~120 kB: over the JSON body limit, under the dataset limit
        assert len(big) > 1024 and upload(client, big, "big.csv").status_code == 201
        resp = upload(client, csv_bytes(["a", "b"] * 10000), "huge.csv")
        assert resp.status_code == 413 and "at most 200000 bytes" in resp.text
        assert len(client.get("/api/v1/datasets").json()) == 1


# --- a lab server: members, admins, confinement -------------------------------------------------


@pytest.fixture
def lab(db_url, tmp_path):
    """A lab-mode API with an admin and two members; `as_(name)` gives their headers."""
    settings = Settings(home=tmp_path, database_url=db_url, auth="required")
    with TestClient(create_app(settings)) as client:
        tokens = {}
        with session_scope(settings.db_url) as s:
            for name, role in (("ada", "admin"), ("bob", "member"), ("cy", "member")):
                auth.create_user(s, name, role)
                tokens[name] = auth.create_token(s, name)[1]
        client.as_ = lambda name: {"Authorization": f"Bearer {tokens[name]}"}
        client.settings = settings
        yield client


def test_members_read_every_dataset_and_only_owners_and_admins_delete(lab, settings):
    row = lab.post("/api/v1/datasets", params={"name": "b.csv"}, content=csv_bytes(), headers=lab.as_("bob")).json()
    assert lab.get("/api/v1/datasets", headers=lab.as_("cy")).json()[0]["id"] == row["id"]
    assert lab.get(f"/api/v1/datasets/{row['id']}/file", headers=lab.as_("cy")).content == csv_bytes()
    assert lab.delete(f"/api/v1/datasets/{row['id']}", headers=lab.as_("cy")).status_code == 403
    assert lab.delete(f"/api/v1/datasets/{row['id']}", headers=lab.as_("bob")).status_code == 204
    assert lab.get(f"/api/v1/datasets/{row['id']}", headers=lab.as_("bob")).status_code == 404
    assert blobs(lab.settings) == 0  # its bytes went with it
    other = lab.post("/api/v1/datasets", params={"name": "b.csv"}, content=csv_bytes(), headers=lab.as_("bob")).json()
    assert lab.delete(f"/api/v1/datasets/{other['id']}", headers=lab.as_("ada")).status_code == 204
    assert lab.get("/api/v1/datasets").status_code == 401


def spec(**base) -> dict:
    return {
        "name": "t",
        "base": {"dataset": "folder", "model": "logreg", "classes": ["ant", "bee"], "epochs": 1, **base},
        "sweep": {"seed": [0]},
    }


@pytest.mark.parametrize("path", ["/etc", "/root/.ssh", "../../etc/passwd", "/srv/data/ants"])
def test_on_a_lab_server_a_member_cannot_train_on_a_path(lab, path):
    resp = lab.post("/api/v1/experiments", json=spec(data_path=path), headers=lab.as_("bob"))
    assert resp.status_code == 422, resp.text
    detail = resp.json()["detail"][0]
    assert detail["loc"] == ["body", "data_path"] and "registered location" in detail["msg"]
    with session_scope(lab.settings.db_url) as s:
        assert s.scalar(select(func.count()).select_from(Experiment)) == 0  # nothing stored
    sweep = spec() | {"sweep": {"data_path": [path]}}  # a sweep axis is checked as well
    assert lab.post("/api/v1/experiments", json=sweep, headers=lab.as_("bob")).status_code == 422


def test_admins_register_locations_that_members_then_name(lab):
    body = {"name": "ants", "path": "/srv/data/ants"}
    assert lab.post("/api/v1/datasets/locations", json=body, headers=lab.as_("bob")).status_code == 403
    created = lab.post("/api/v1/datasets/locations", json=body, headers=lab.as_("ada"))
    assert created.status_code == 201 and created.json()["kind"] == "location"
    assert (
        lab.post("/api/v1/datasets/locations", json=body, headers=lab.as_("ada")).status_code == 422
    )  # the name is taken
    relative = lab.post("/api/v1/datasets/locations", json={"name": "rel", "path": "data/ants"}, headers=lab.as_("ada"))
    assert relative.status_code == 422 and relative.json()["detail"][0]["loc"] == ["body", "path"]
    for data_path in ("ants", "/srv/data/ants"):
        resp = lab.post("/api/v1/experiments", json=spec(data_path=data_path), headers=lab.as_("bob"))
        assert resp.status_code == 202, resp.text


def test_a_spec_names_an_uploaded_dataset_by_id(lab):
    images = lab.post(
        "/api/v1/datasets", params={"name": "ants.tar.gz"}, content=archive(), headers=lab.as_("bob")
    ).json()
    table = lab.post("/api/v1/datasets", params={"name": "t.csv"}, content=csv_bytes(), headers=lab.as_("bob")).json()
    assert lab.post("/api/v1/experiments", json=spec(dataset_id=images["id"]), headers=lab.as_("cy")).status_code == 202
    for dataset_id, message in (
        (table["id"], "is a table; dataset folder needs an image archive"),
        (9999, "no uploaded dataset 9999"),
    ):
        resp = lab.post("/api/v1/experiments", json=spec(dataset_id=dataset_id), headers=lab.as_("cy"))
        assert resp.status_code == 422 and message in resp.json()["detail"][0]["msg"], resp.text
    both = lab.post("/api/v1/experiments", json=spec(dataset_id=images["id"], data_path="ants"), headers=lab.as_("cy"))
    assert both.status_code == 422 and "not both" in both.text


def test_the_embedded_stack_still_takes_paths(client, tmp_path):
    resp = client.post("/api/v1/experiments", json=spec(data_path=str(tmp_path)))
    assert resp.status_code == 202, resp.text


def test_the_catalog_and_the_gallery_say_whether_cifar_is_downloaded(tmp_path):
    folder = tmp_path / "data"  # explicit: IWLAB_DATASETS may be set for the whole session
    settings = Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", datasets=folder)
    with TestClient(create_app(settings)) as client:

        def cifar_preset():
            return next(p for p in client.get("/api/v1/presets").json() if p["needs"] == "cifar10")

        assert (
            client.get("/api/v1/catalog").json()["downloaded"] == {"cifar10": False}
            and cifar_preset()["needs_met"] is False
        )
        folder.mkdir()
        (folder / "cifar-10-python.tar.gz").write_bytes(b"as iwlab data download leaves it")
        assert (
            client.get("/api/v1/catalog").json()["downloaded"] == {"cifar10": True}
            and cifar_preset()["needs_met"] is True
        )
        assert all(p["needs_met"] for p in client.get("/api/v1/presets").json() if p["needs"] is None)


def test_an_npz_with_a_member_that_is_not_an_array_is_a_422(client):
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("notes.txt", "not an array")  # found by the fuzzer: numpy hands such members back as bytes
    resp = upload(client, buf.getvalue(), "odd.npz")
    assert resp.status_code == 422 and "'notes.txt' is not an array" in resp.json()["detail"][0]["msg"], resp.text


def test_a_parquet_table_is_described_like_its_csv(client):
    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.table({"x1": list(range(len(LABELS))), "label": LABELS}), buf)
    resp = upload(client, buf.getvalue(), "shift.parquet")
    assert resp.status_code == 201, resp.text
    row = resp.json()
    assert row["format"] == "parquet" and "missing" not in row["summary"]
    assert row["summary"]["rows"] == len(LABELS) and row["summary"]["columns"] == ["x1", "label"]
    assert row["summary"]["class_counts"] == dict(Counter(LABELS))
