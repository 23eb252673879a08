"""An uploaded dataset trains on a worker that never had the file (issue 12): the API stores it in
the lab's database, a real Celery worker with an empty data folder of its own copies it from there."""

import hashlib
import tarfile

from tests.services import wait_for
from tests.worker.test_datasets import write_tree


def test_an_uploaded_image_archive_trains_on_a_worker_that_did_not_have_it(make_lab, isolated_redis_url, tmp_path):
    tree = write_tree(tmp_path / "mine" / "tree", n=6)
    archive = tmp_path / "mine" / "ants.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tree, arcname="ants")
    data = archive.read_bytes()
    lab = make_lab(isolated_redis_url)
    row = lab.client.post("/api/v1/datasets", params={"name": "ants.tar.gz"}, content=data).json()
    assert row["summary"]["images"]["train"] == {"ant": 6, "bee": 6}
    archive.unlink()  # from here on the only copy is the lab's store
    spec = {
        "name": "upload",
        "base": {
            "dataset": "folder",
            "dataset_id": row["id"],
            "classes": ["ant", "bee"],
            "model": "logreg",
            "epochs": 3,
            "n_train": 6,
            "n_test": 6,
            "ood": 0,
            "batch_size": 4,
        },
        "sweep": {"pos_weight": [1, 4]},
    }
    exp = lab.client.post("/api/v1/experiments", json=spec)
    assert exp.status_code == 202, exp.text
    own = tmp_path / "worker-data"  # the worker's own data folder: empty
    lab.start_worker("w1", IWLAB_DATASETS=str(own))

    def done():
        body = lab.client.get(f"/api/v1/experiments/{exp.json()['id']}").json()
        return body if body["status"] not in ("queued", "running") else None

    final = wait_for(done, timeout=180, what="the experiment to finish", interval=0.5)
    runs = lab.client.get(f"/api/v1/experiments/{final['id']}/runs").json()
    assert final["status"] == "succeeded", [r["error"] for r in runs]
    rows = lab.client.get(
        f"/api/v1/experiments/{final['id']}/metrics", params={"split": "test", "metric": "acc"}
    ).json()
    assert {(r["run_id"], r["epoch"]) for r in rows} == {(r["id"], e) for r in runs for e in range(4)}
    copies = list((own / "store").iterdir())
    assert [c.name for c in copies] == [f"{row['sha256']}.tar.gz"] and hashlib.sha256(
        copies[0].read_bytes()
    ).hexdigest() == row["sha256"]


def test_an_uploaded_three_class_table_and_its_target_sample_train_on_a_worker(make_lab, isolated_redis_url, tmp_path):
    rows = [f"{i % 7 * 0.3:.2f},{i % 5 * 0.4:.2f},{('cat', 'dog', 'fox')[i % 3]}" for i in range(45)]
    source = ("a,b,label\n" + "\n".join(rows) + "\n").encode()
    target = ("a,b,label\n" + "\n".join(rows[::2]) + "\n").encode()
    lab = make_lab(isolated_redis_url)
    ids = [
        lab.client.post("/api/v1/datasets", params={"name": name}, content=data).json()["id"]
        for name, data in (("s.csv", source), ("t.csv", target))
    ]
    spec = {"name": "table", "base": {"dataset": "table", "dataset_id": ids[0], "target_dataset_id": ids[1], "example_weights": "estimated",
                                      "epochs": 2, "batch_size": 8}, "sweep": {"class_weights": [{}, {"fox": 3.0}]}}  # fmt: skip
    exp = lab.client.post("/api/v1/experiments", json=spec)
    assert exp.status_code == 202, exp.text
    lab.start_worker("w1", IWLAB_DATASETS=str(tmp_path / "worker-data"))

    def done():
        body = lab.client.get(f"/api/v1/experiments/{exp.json()['id']}").json()
        return body if body["status"] not in ("queued", "running") else None

    final = wait_for(done, timeout=180, what="the experiment to finish", interval=0.5)
    runs = lab.client.get(f"/api/v1/experiments/{final['id']}/runs").json()
    assert final["status"] == "succeeded", [r["error"] for r in runs]
    names = {(r["split"], r["metric"]) for r in lab.client.get(f"/api/v1/experiments/{final['id']}/metrics").json()}
    assert {("test", f"frac_pred_{c}") for c in ("cat", "dog", "fox")} | {
        ("target", "acc"),
        ("train", "effective_sample_size"),
    } <= names
