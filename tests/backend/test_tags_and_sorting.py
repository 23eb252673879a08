"""Experiment tags (given at submission, replaced later, filtered on) and the list's sort orders,
on SQLite and on Postgres."""

import pytest
from fastapi.testclient import TestClient

from backend import auth, lifecycle
from backend.app import create_app
from backend.db import session_scope
from backend.schemas import MAX_TAGS

from .test_lifecycle import record

API = "/api/v1"


def submit(client, name: str, tags=None, weights=(1.0,), epochs: int = 4, headers=None) -> dict:
    body = {"name": name, "base": {"epochs": epochs}, "sweep": {"pos_weight": list(weights)}} | (
        {"tags": tags} if tags is not None else {}
    )
    resp = client.post(f"{API}/experiments", json=body, headers=headers or {})
    assert resp.status_code == 202, resp.text
    return resp.json()


def listed(client, **params) -> list[str]:
    resp = client.get(f"{API}/experiments", params=params)
    assert resp.status_code == 200, resp.text
    return [e["name"] for e in resp.json()["items"]]


def test_tags_given_at_submission_are_normalised_kept_out_of_the_spec_and_listed(client):
    exp = submit(client, "tagged", tags=[" Paper ", "2-d", "paper", "cifar.v2"])
    assert exp["tags"] == ["2-d", "cifar.v2", "paper"]  # case-blind, a repeat is one tag, sorted
    assert "tags" not in exp["spec"]
    assert submit(client, "plain")["tags"] == []
    shown = {e["name"]: e["tags"] for e in client.get(f"{API}/experiments").json()["items"]}
    assert shown == {"tagged": ["2-d", "cifar.v2", "paper"], "plain": []}  # stored as a set, listed sorted
    assert client.get(f"{API}/experiments/{exp['id']}").json()["tags"] == ["2-d", "cifar.v2", "paper"]


def test_the_tag_filter_keeps_experiments_carrying_every_tag_given(client):
    submit(client, "a", tags=["paper", "2-d"])
    submit(client, "b", tags=["paper", "cifar"])
    submit(client, "c", tags=["2-d"])
    assert listed(client, tag="paper") == ["b", "a"]
    assert listed(client, tag=["paper", "2-d"]) == ["a"]
    assert listed(client, tag="paper,2-d") == ["a"]  # a comma list means the same
    assert listed(client, tag="PAPER") == ["b", "a"]
    assert listed(client, tag="nobody") == []
    page = client.get(f"{API}/experiments", params={"tag": "paper", "limit": 1}).json()
    assert page["total"] == 2 and [e["name"] for e in page["items"]] == ["b"]


def test_tags_are_replaced_with_put(client):
    exp = submit(client, "retag", tags=["old", "keep"])
    resp = client.put(f"{API}/experiments/{exp['id']}/tags", json={"tags": ["keep", "New"]})
    assert resp.status_code == 200 and resp.json()["tags"] == ["keep", "new"]
    assert listed(client, tag="old") == [] and listed(client, tag="new") == ["retag"]
    assert client.put(f"{API}/experiments/{exp['id']}/tags", json={"tags": []}).json()["tags"] == []
    assert client.put(f"{API}/experiments/999/tags", json={"tags": ["x"]}).status_code == 404


@pytest.mark.parametrize(
    ("tags", "reason"),
    [
        (["has space"], "is not a tag"),
        (["-leading-dash"], "is not a tag"),
        (["x" * 33], "1-32 characters"),
        ([""], "is not a tag"),
        (["ünïcode"], "is not a tag"),
        ([f"t{i}" for i in range(MAX_TAGS + 1)], f"at most {MAX_TAGS}"),
        ("paper", "valid list"),
        ([3], "valid string"),
    ],
)
def test_bad_tags_are_422_naming_the_field_on_submission_and_on_put(client, tags, reason):
    resp = client.post(f"{API}/experiments", json={"name": "bad", "tags": tags})
    assert resp.status_code == 422
    detail = resp.json()["detail"][0]
    assert detail["loc"][:2] == ["body", "tags"] and reason in detail["msg"], detail
    assert client.get(f"{API}/experiments").json()["total"] == 0
    exp = submit(client, "good", tags=["kept"])
    resp = client.put(f"{API}/experiments/{exp['id']}/tags", json={"tags": tags})
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"][:2] == ["body", "tags"]
    assert client.get(f"{API}/experiments/{exp['id']}").json()["tags"] == ["kept"]


@pytest.mark.parametrize("tag", ["has space", "x" * 33, ",".join(f"t{i}" for i in range(MAX_TAGS + 1))])
def test_a_bad_tag_filter_is_422_naming_tag(client, tag):
    resp = client.get(f"{API}/experiments", params={"tag": tag})
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["query", "tag"]


@pytest.mark.parametrize("sort", ["size", "-", "--name", "name,status", "Name"])
def test_an_unknown_sort_key_is_422_naming_sort(client, sort):
    resp = client.get(f"{API}/experiments", params={"sort": sort})
    assert resp.status_code == 422
    detail = resp.json()["detail"][0]
    assert detail["loc"] == ["query", "sort"] and "progress" in detail["msg"]


@pytest.fixture
def four(client, settings):
    """Four experiments whose names, run counts, progress and status all order differently:
    (created in this order) name, runs, epochs done of each run's 4, status."""
    plan = [
        ("Beta", 2, [4, 4], "succeeded"),
        ("alpha", 3, [1, 0, 0], "running"),
        ("delta", 1, [0], "queued"),
        ("Gamma", 4, [4, 2, 0, 0], "failed"),
    ]
    names = {}
    for name, n, done, status in plan:
        exp = submit(client, name, weights=[float(w) for w in range(1, n + 1)])
        runs = client.get(f"{API}/experiments/{exp['id']}/runs").json()
        for run, epochs in zip(runs, done, strict=True):
            if not epochs and status != "failed":
                continue
            claim, _ = lifecycle.claim(settings, run["id"], "w")
            if epochs:
                lifecycle.flush(settings, run["id"], claim.attempt, [record(e) for e in range(1, epochs + 1)], None)
            if status in ("succeeded", "failed"):  # a failed experiment: its runs that did no epoch failed
                lifecycle.finish(settings, run["id"], claim.attempt, "succeeded" if epochs else "failed")
        names[name] = exp["id"]
    return names


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (None, ["Gamma", "delta", "alpha", "Beta"]),  # newest first
        ("created_at", ["Beta", "alpha", "delta", "Gamma"]),
        ("-created_at", ["Gamma", "delta", "alpha", "Beta"]),
        ("name", ["alpha", "Beta", "delta", "Gamma"]),  # case-blind
        ("-name", ["Gamma", "delta", "Beta", "alpha"]),
        ("runs", ["delta", "Beta", "alpha", "Gamma"]),
        ("-runs", ["Gamma", "alpha", "Beta", "delta"]),
        ("progress", ["delta", "alpha", "Gamma", "Beta"]),  # 0, 1/12, 6/16, 1
        ("-progress", ["Beta", "Gamma", "alpha", "delta"]),
        ("status", ["alpha", "delta", "Gamma", "Beta"]),  # running, queued, failed, cancelled, succeeded
        ("-status", ["Beta", "Gamma", "delta", "alpha"]),
    ],
)
def test_each_sort_key_orders_the_whole_list_in_both_directions(client, four, sort, expected):
    statuses = {e["name"]: e["status"] for e in client.get(f"{API}/experiments").json()["items"]}
    assert statuses == {"Beta": "succeeded", "alpha": "running", "delta": "queued", "Gamma": "failed"}
    params = {"sort": sort} if sort else {}
    assert listed(client, **params) == expected
    # paging walks the same order
    assert [name for offset in range(4) for name in listed(client, **params, limit=1, offset=offset)] == expected


def test_ties_are_newest_first_and_sorting_combines_with_the_tag_filter(client):
    for name in ("one", "two", "three"):
        submit(client, name, tags=["same"])
    submit(client, "untagged")
    assert listed(client, sort="runs") == ["untagged", "three", "two", "one"]
    assert listed(client, sort="-name", tag="same") == ["two", "three", "one"]


def test_the_list_summarises_runs_as_the_single_experiment_does(client, four):
    for item in client.get(f"{API}/experiments").json()["items"]:
        single = client.get(f"{API}/experiments/{item['id']}").json()
        assert {k: item[k] for k in ("status", "runs_total", "status_counts", "progress")} == {
            k: single[k] for k in ("status", "runs_total", "status_counts", "progress")
        }


@pytest.fixture
def lab(settings):
    settings = settings.model_copy(update={"auth": "required"})
    with TestClient(create_app(settings)) as client:
        with session_scope(settings.db_url) as s:
            tokens = {}
            for name, role in (("ada", "admin"), ("owen", "member"), ("mia", "member")):
                auth.create_user(s, name, role)
                tokens[name] = auth.create_token(s, name)[1]
        yield client, {"anonymous": {}} | {n: {"Authorization": f"Bearer {t}"} for n, t in tokens.items()}


@pytest.mark.parametrize(("who", "status"), [("anonymous", 401), ("mia", 403), ("owen", 200), ("ada", 200)])
def test_only_the_owner_or_an_admin_may_change_tags(lab, who, status):
    client, headers = lab
    exp = submit(client, "owned", tags=["mine"], headers=headers["owen"])
    resp = client.put(f"{API}/experiments/{exp['id']}/tags", json={"tags": ["changed"]}, headers=headers[who])
    assert resp.status_code == status, resp.text
    tags = client.get(f"{API}/experiments/{exp['id']}", headers=headers["mia"]).json()["tags"]
    assert tags == (["changed"] if status == 200 else ["mine"]), "a refused request changes nothing"


def test_every_preset_submitted_from_the_gallery_carries_its_tags_and_name(client):
    from frontend.components.presets import preset_tags  # what the gallery's Run buttons add

    for preset in client.get(f"{API}/presets").json():
        resp = client.post(f"{API}/experiments", json=preset["quick"]["spec"] | {"tags": preset_tags(preset)})
        assert resp.status_code == 202, resp.text
        assert preset["name"] in resp.json()["tags"] and len(resp.json()["tags"]) == len(preset["tags"]) + 1
    assert listed(client, tag="paper,2-d", sort="name")[:2] == [
        "bl-synth-batchnorm (quick)",
        "bl-synth-dropout (quick)",
    ]
