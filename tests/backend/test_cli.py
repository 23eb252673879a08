"""The `iwlab` command as a user types it."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import typer

from tests.services import free_port, spawn, stop, tail, wait_for_http

IWLAB = [sys.executable, "-m", "backend.cli"]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def iwlab(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*IWLAB, *args], capture_output=True, text=True, timeout=timeout, env=env)


def test_run_writes_one_row_per_run_and_tidy_metrics(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "name: t\nbase: {epochs: 4, model: mlp, hidden: [8, 8]}\nsweep: {pos_weight: [0.5, 2], seed: [0, 1]}\n"
    )
    result = iwlab("run", str(spec), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    runs = list(csv.DictReader((tmp_path / "out/runs.csv").open()))
    assert [(r["run_id"], r["pos_weight"], r["seed"]) for r in runs] == [
        ("0", "0.5", "0"),
        ("1", "0.5", "1"),
        ("2", "2.0", "0"),
        ("3", "2.0", "1"),
    ]
    assert runs[0]["hidden"] == "[8, 8]" and runs[0]["lr"] == "0.03"
    metrics = list(csv.DictReader((tmp_path / "out/metrics.csv").open()))
    assert list(metrics[0]) == ["run_id", "epoch", "split", "metric", "value"]
    keys = {(m["run_id"], m["epoch"], m["split"], m["metric"]) for m in metrics}
    assert len(keys) == len(metrics), "tidy: one row per run, epoch, split and metric"
    assert {m["epoch"] for m in metrics} == {"0", "1", "2", "3", "4"}
    assert {("test", "frac_pred_pos"), ("train", "acc"), ("train", "param_norm")} <= {
        (m["split"], m["metric"]) for m in metrics
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("base: {lr: -1}\n", "base.lr: Input should be greater than 0"),
        ("sweep: {pos_weight: [1, 0]}\n", "sweep.pos_weight: Input should be greater than 0"),
        ("base: [1, 2\n", "is not valid YAML"),
        ("- just\n- a list\n", "Input should be a valid dictionary"),
    ],
)
def test_bad_spec_exits_2_with_one_line(tmp_path, content, message):
    spec = tmp_path / "bad.yaml"
    spec.write_text(content)
    result = iwlab("run", str(spec), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "out").exists()


def test_missing_spec_file_exits_2(tmp_path):
    result = iwlab("submit", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2 and "cannot read" in result.stderr


def test_up_serves_the_embedded_stack_and_submit_waits_for_it(tmp_path):
    """`iwlab up` (SQLite + filesystem queue) and `iwlab submit --wait`, as the README shows."""
    api, dash = free_port(), free_port()
    env = os.environ | {"IWLAB_HOME": str(tmp_path / "home"), "IWLAB_API_URL": f"http://127.0.0.1:{api}"}
    log = tmp_path / "up.log"
    up = spawn([*IWLAB, "up", "--api-port", str(api), "--dashboard-port", str(dash)], env=env, log=log)
    try:
        wait_for_http(f"http://127.0.0.1:{api}/api/v1/health", timeout=60)
        wait_for_http(f"http://127.0.0.1:{dash}/", timeout=60)
        result = iwlab(
            "submit", str(EXAMPLES / "fade-logreg.yaml"), "--wait", "--tag", "demo", "--tag", "Paper", env=env
        )
        assert result.returncode == 0, result.stderr + tail(log) + tail(tmp_path / "home/logs/worker.log")
        assert "succeeded" in result.stderr
        tagged = httpx.get(f"http://127.0.0.1:{api}/api/v1/experiments", params={"tag": "demo"}).json()["items"]
        assert [e["tags"] for e in tagged] == [["demo", "paper"]]
        refused = iwlab("submit", str(EXAMPLES / "fade-logreg.yaml"), "--tag", "no spaces", env=env)
        assert refused.returncode == 2 and "tags" in refused.stderr
        assert (tmp_path / "home/iwlab.db").exists()
        assert f"http://127.0.0.1:{dash}/" in log.read_text()
    finally:
        stop(up)


def test_presets_are_listed_with_their_run_counts():
    result = iwlab("presets")
    assert result.returncode == 0
    assert "bl-synth-linear" in result.stdout and "bl-cifar-cnn" in result.stdout and "cifar10" in result.stdout


def test_unknown_preset_exits_2(tmp_path):
    result = iwlab("run", "--preset", "bl-nope", "--out", str(tmp_path))
    assert result.returncode == 2 and "bl-synth-linear" in result.stderr


def test_missing_cifar_exits_2_saying_what_to_download(tmp_path):
    env = os.environ | {"IWLAB_DATASETS": str(tmp_path / "empty")}
    result = iwlab("run", "--preset", "bl-cifar-cnn", "--quick", "--out", str(tmp_path / "out"), env=env)
    assert result.returncode == 2, result.stderr
    assert "cifar-10-python.tar.gz" in result.stderr and str(tmp_path / "empty") in result.stderr


def test_report_writes_figures_and_a_summary(tmp_path):
    result = iwlab("report", "--preset", "digits-pair", "--quick", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    summary = (tmp_path / "report.md").read_text()
    assert "digits-pair" in summary and "| spread of test frac_pred_pos at epoch 1 >= 0.5 |" in summary
    for png in ("frac_pred_pos-test.png", "spread.png"):
        data = (tmp_path / png).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
        assert f"]({png})" in summary


def test_report_on_a_spec_that_is_not_a_preset(tmp_path):
    spec = tmp_path / "moons.yaml"
    spec.write_text(
        "name: my-moons\n"
        "base: {dataset: moons, model: logreg, epochs: 20, n_train: 40, n_test: 60, lr: 0.1, eval_points: 6, frames: 2, grid: 8}\n"
        "sweep: {pos_weight: [0.1, 1.0, 10.0], seed: [0, 1]}\n"
    )
    result = iwlab("report", str(spec), "--out", str(tmp_path / "rep"))
    assert result.returncode == 0, result.stderr
    summary = (tmp_path / "rep/report.md").read_text()
    assert summary.startswith("# my-moons") and "| expected |" not in summary  # a spec carries no checks
    assert "Paired comparisons with w = 1" in summary and "| all runs | 10 | test frac_pred_pos | 2 |" in summary
    assert "Not recorded in 6 of 6 runs: svm_angle, svm_cosine: the training data are not linearly separable" in summary
    for png in ("frac_pred_pos-test.png", "offset.png", "spread.png"):
        assert (tmp_path / "rep" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"]({png})" in summary
    assert (tmp_path / "rep/summary.csv").is_file()
    both = iwlab("report", str(spec), "--preset", "digits-pair", "--out", str(tmp_path / "x"))
    assert both.returncode == 2 and "give one of" in both.stderr


def test_report_on_an_experiment_a_server_trained(tmp_path):
    """`iwlab up`, a small sweep submitted and trained there, then `iwlab report --experiment`."""
    api = free_port()
    base = f"http://127.0.0.1:{api}"
    env = os.environ | {"IWLAB_HOME": str(tmp_path / "home"), "IWLAB_API_URL": base}
    spec = tmp_path / "moons.yaml"
    spec.write_text(
        "name: served-moons\n"
        "base: {dataset: moons, model: logreg, epochs: 10, n_train: 30, n_test: 40, lr: 0.1, frames: 2, grid: 8}\n"
        "sweep: {pos_weight: [1.0, 10.0], seed: [0, 1]}\n"
    )
    log = tmp_path / "up.log"
    up = spawn([*IWLAB, "up", "--api-port", str(api), "--dashboard-port", str(free_port())], env=env, log=log)
    try:
        wait_for_http(f"{base}/api/v1/health", timeout=60)
        submitted = iwlab("submit", str(spec), "--wait", env=env)
        assert submitted.returncode == 0, submitted.stderr + tail(log)
        (exp,) = httpx.get(f"{base}/api/v1/experiments").json()["items"]
        result = iwlab(
            "report", "--experiment", str(exp["id"]), "--server", base, "--out", str(tmp_path / "rep"), env=env
        )
        assert result.returncode == 0, result.stderr
        summary = (tmp_path / "rep/report.md").read_text()
        assert summary.startswith("# served-moons") and f"4 runs of experiment {exp['id']} (succeeded)" in summary
        assert "| all runs | 10 | test frac_pred_pos | 2 |" in summary
        metrics = httpx.get(
            f"{base}/api/v1/experiments/{exp['id']}/metrics", params={"split": "test", "metric": "frac_pred_pos"}
        ).json()
        runs = {
            r["id"]: r["params"]["pos_weight"] for r in httpx.get(f"{base}/api/v1/experiments/{exp['id']}/runs").json()
        }
        final = [m["value"] for m in metrics if m["epoch"] == 10 and runs[m["run_id"]] == 10.0]
        rows = [r for r in csv.DictReader((tmp_path / "rep/summary.csv").open())
                if (r["pos_weight"], r["epoch"], r["split"], r["metric"]) == ("10.0", "10", "test", "frac_pred_pos")]  # fmt: skip
        assert len(rows) == 1 and int(rows[0]["n"]) == len(final) == 2
        assert float(rows[0]["mean"]) == pytest.approx(sum(final) / 2)
        missing = iwlab("report", "--experiment", "999", "--server", base, "--out", str(tmp_path / "x"), env=env)
        assert missing.returncode == 2 and "404" in missing.stderr
    finally:
        stop(up)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--queues", "tpu"], "--queues: choose from cpu, gpu"),
        (["--gpus", "0,zero"], "--gpus: distinct GPU indices"),
        (["--gpus", "1,1"], "--gpus: distinct GPU indices"),
    ],
)
def test_worker_bad_options_exit_2_with_one_line(args, message, tmp_path):
    result = iwlab("worker", *args, env=os.environ | {"IWLAB_HOME": str(tmp_path)})
    assert result.returncode == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_worker_drain_needs_a_reachable_server(tmp_path):
    result = iwlab(
        "worker",
        "drain",
        "w@box",
        "--server",
        f"http://127.0.0.1:{free_port()}",
        env=os.environ | {"IWLAB_HOME": str(tmp_path)},
    )
    assert result.returncode == 2 and "cannot reach" in result.stderr


def test_api_with_two_processes_serves_and_logs_json(tmp_path):
    port = free_port()
    env = os.environ | {"IWLAB_HOME": str(tmp_path), "IWLAB_LOG_FORMAT": "json"}
    log = tmp_path / "api.log"
    api = spawn([*IWLAB, "api", "--port", str(port), "--workers", "2"], env=env, log=log)
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        wait_for_http(f"{base}/health", timeout=90)
        statuses = [
            httpx.post(f"{base}/experiments", json={"name": f"e{i}", "base": {"epochs": 1}, "sweep": {}}).status_code
            for i in range(6)
        ]
        assert statuses == [202] * 6 and httpx.get(f"{base}/experiments").json()["total"] == 6
    finally:
        stop(api)
    access = [
        json.loads(line) for line in log.read_text().splitlines() if line.startswith("{") and '"iwlab.access"' in line
    ]
    assert sum(1 for line in access if line["method"] == "POST" and line["status"] == 202) == 6, tail(log)


def test_spec_files_read_exponent_numbers_as_numbers(tmp_path):
    """PyYAML (YAML 1.1) reads `1e-3` as a string, which the strict spec refuses; a researcher means 0.001."""
    from backend.cli import load_spec

    path = tmp_path / "spec.yaml"
    path.write_text(
        "name: exp\nbase:\n  lr: 1e-3\n  weight_decay: 5E-4\n  epochs: 3\nsweep:\n  pos_weight: [1e1, 2.5e+2]\n"
    )
    spec = load_spec(path)
    assert spec.base.lr == 0.001 and spec.base.weight_decay == 0.0005 and spec.base.epochs == 3
    assert spec.sweep["pos_weight"] == [10.0, 250.0]
    path.write_text("name: exp\nbase:\n  lr: 1e-3x\n")
    with pytest.raises(typer.Exit):
        load_spec(path)
