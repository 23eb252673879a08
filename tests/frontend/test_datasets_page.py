"""The /datasets page against the real API in-process (SQLite): upload, what it lists, errors."""

import base64

import pytest
from fastapi.testclient import TestClient

from backend.app import create_app
from backend.settings import Settings
from frontend.client import ApiClient
from frontend.pages import datasets as page

from .test_tables import texts, walk


@pytest.fixture
def client(tmp_path):
    with TestClient(create_app(Settings(home=tmp_path))) as api:
        yield ApiClient("http://testserver", transport=api._transport)


def encoded(data: bytes) -> str:
    return "data:application/octet-stream;base64," + base64.b64encode(data).decode()


def test_an_upload_is_stored_and_listed_with_what_it_holds(client):
    empty = page.layout(client)
    assert any(getattr(c, "id", None) == "datasets-empty" for c in walk(empty))
    row, alert = page.upload(client, encoded(b"x,y\n1,a\n2,b\n3,a\n"), "shift.csv", None)
    assert row is not None and row["id"] == client.datasets()[0]["id"]
    assert alert.color == "success" and "Stored shift.csv as dataset_id: 1 (3 rows × 2 columns; y: a 2, b 1)." in texts(
        alert
    )
    words = texts(page.datasets_view(client))
    assert "shift.csv" in words and "3 rows × 2 columns; y: a 2, b 1" in words and "dataset_id: 1" in words


def test_a_refused_upload_says_why_and_lists_nothing(client):
    row, alert = page.upload(client, encoded(bytes(range(256))), "noise.bin", None)
    assert (
        row is None
        and alert.color == "danger"
        and "noise.bin was not stored: file: not a CSV, Parquet or NPZ" in texts(alert)[0]
    )
    _, unknown = page.upload(client, encoded(b"x,y\n1,a\n"), "t.csv", "label")
    assert "label_column: no column 'label'" in texts(unknown)[0]
    assert page.upload(client, "not a data url", "t.csv", None)[1].color == "danger"
    assert client.datasets() == []


def test_delete_goes_through_the_api(client):
    page.upload(client, encoded(b"x,y\n1,a\n"), "t.csv", None)
    client.delete_dataset(1)
    assert client.datasets() == []
