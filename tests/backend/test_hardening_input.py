"""One bad request must not take the lab down (issue 14, item 3): every string is plain text,
every number finite and bounded, every type strict; the answer is a 422 that names the field and
can be encoded, and nothing is stored. Bodies are sent as raw JSON text, as a client can."""

import json

import pytest

GOOD = '{"name": "ok", "base": {"epochs": 2}, "sweep": {"pos_weight": [1.0]}}'


def body(base: str = '{"epochs": 2}', name: str = '"x"', sweep: str = '{"pos_weight": [1.0]}', tags: str = "[]") -> str:
    return f'{{"name": {name}, "base": {base}, "sweep": {sweep}, "tags": {tags}}}'


BAD = {
    "lone surrogate in classes": (body(base='{"classes": ["a\\udfff", "b"]}'), "classes"),
    "lone surrogate in name": (body(name='"x\\udfff"'), "name"),
    "NUL in name": (body(name='"a\\u0000b"'), "name"),
    "NUL in classes": (body(base='{"classes": ["a\\u0000", "b"]}'), "classes"),
    "escape character in classes": (body(base='{"classes": ["a\\u001b[31m", "b"]}'), "classes"),
    "NUL in data_path": (body(base='{"dataset": "folder", "data_path": "/data\\u0000x"}'), "data_path"),
    "lone surrogate in a tag": (body(tags='["a\\udfff"]'), "tags"),
    "NaN lr": (body(base='{"lr": NaN}'), "lr"),
    "Infinity lr": (body(base='{"lr": Infinity}'), "lr"),
    "1e400 pos_weight": (body(base='{"pos_weight": 1e400}'), "pos_weight"),
    "NaN in a sweep": (body(sweep='{"lr": [0.1, NaN]}'), "lr"),
    "string epochs": (body(base='{"epochs": "5"}'), "epochs"),
    "boolean epochs": (body(base='{"epochs": true}'), "epochs"),
    "string epochs in a sweep": (body(sweep='{"epochs": ["5"]}'), "epochs"),
    "float epochs": (body(base='{"epochs": 5.5}'), "epochs"),
    "seed 2^64": (body(base='{"seed": 18446744073709551616}'), "seed"),
    "seed 2^32": (body(base='{"seed": 4294967296}'), "seed"),
    "data_seed negative": (body(base='{"data_seed": -1}'), "data_seed"),
    "lone surrogate as a sweep key": (body(sweep='{"a\\udfff": [1]}'), "sweep"),
    "string boolean": (body(base='{"resample": "yes"}'), "resample"),
}


def post(client, text: str):
    return client.post("/api/v1/experiments", content=text.encode(), headers={"content-type": "application/json"})


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_a_422_naming_the_field_and_nothing_is_stored(client, case):
    text, field = BAD[case]
    resp = post(client, text)
    assert resp.status_code == 422, resp.text
    detail = json.loads(resp.content.decode("utf-8"))["detail"]  # strict UTF-8: the answer is always encodable
    assert field in json.dumps(detail), detail
    assert client.get("/api/v1/experiments").json()["total"] == 0
    assert post(client, GOOD).status_code == 202  # and the lab goes on
    assert client.get("/api/v1/experiments").status_code == 200


def test_plain_unicode_text_is_accepted(client):
    resp = post(
        client, body(name='"Gewichte \\u00e9t\\u00e9 \\ud83d\\ude00"', base='{"classes": ["chat \\u732b", "chien"]}')
    )
    assert resp.status_code == 202, resp.text
    exp = resp.json()
    assert exp["name"] == "Gewichte été 😀"
    runs = client.get(f"/api/v1/experiments/{exp['id']}/runs").json()
    assert runs[0]["params"]["classes"] == ["chat 猫", "chien"]
    assert client.get(f"/api/v1/experiments/{exp['id']}/export.csv").status_code == 200


def test_an_npz_upload_holding_a_file_that_is_not_an_array_is_a_422(client):
    """Found by tests/backend/test_hardening_fuzz.py: a zip with a .txt member was a 500."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("a.txt", "a")
    resp = client.post(
        "/api/v1/datasets?name=stray", content=buffer.getvalue(), headers={"content-type": "application/octet-stream"}
    )
    assert resp.status_code == 422 and "not an array" in resp.text
