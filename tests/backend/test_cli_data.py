"""`iwlab data`: upload and list through a real API process; download CIFAR-10 from a local HTTP
server (no test touches the internet): checksum, resume, offline."""

import hashlib
import http.server
import io
import os
import tarfile
import threading

import pytest

from tests.backend.test_cli import IWLAB, iwlab
from tests.services import free_port, spawn, stop, wait_for_http
from worker.engine.images import cifar10_present


@pytest.fixture
def api(tmp_path):
    port = free_port()
    env = os.environ | {"IWLAB_HOME": str(tmp_path / "home")}
    proc = spawn([*IWLAB, "api", "--port", str(port)], env=env, log=tmp_path / "api.log")
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_http(f"{url}/api/v1/health", timeout=90)
        yield url
    finally:
        stop(proc)


def test_data_add_and_ls(api, tmp_path):
    table = tmp_path / "shift.csv"
    table.write_text("x,label\n1,a\n2,b\n3,a\n")
    added = iwlab("data", "add", str(table), "--server", api)
    assert added.returncode == 0, added.stderr
    assert "dataset 1: shift.csv (table" in added.stderr and "dataset_id: 1" in added.stderr
    listed = iwlab("data", "ls", "--server", api)
    assert listed.returncode == 0 and "shift.csv" in listed.stdout and "3 rows x 2 columns" in listed.stdout, (
        listed.stdout
    )
    bad = tmp_path / "bad.csv"
    bad.write_bytes(bytes(range(256)))
    refused = iwlab("data", "add", str(bad), "--server", api)
    assert refused.returncode == 2 and "422" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1, (
        refused.stderr
    )
    missing = iwlab("data", "add", str(tmp_path / "nope.csv"), "--server", api)
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    assert iwlab("data", "rm", "1", "--server", api).returncode == 0
    assert "shift.csv" not in iwlab("data", "ls", "--server", api).stdout


# --- download ------------------------------------------------------------------------------------


def small_archive() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        payload = os.urandom(300_000)  # incompressible, so there is something to resume
        info = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    return buf.getvalue()


@pytest.fixture
def server():
    """A local HTTP server for one archive that honours Range requests and records them."""
    state = {"body": small_archive(), "ranges": [], "honour_range": True}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body, start = state["body"], 0
            asked = self.headers.get("Range")
            state["ranges"].append(asked)
            if asked and state["honour_range"]:
                start = int(asked.removeprefix("bytes=").rstrip("-"))
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(len(body) - start))
            self.end_headers()
            self.wfile.write(body[start:])

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    state["url"] = f"http://127.0.0.1:{httpd.server_port}/cifar-10-python.tar.gz"
    state["md5"] = hashlib.md5(state["body"]).hexdigest()
    yield state
    httpd.shutdown()


def download(server, to, *extra):
    return iwlab("data", "download", "cifar10", "--to", str(to), "--url", server["url"], "--md5", server["md5"], *extra)


def test_download_verifies_the_checksum_and_lands_where_cifar_is_read(server, tmp_path):
    assert not cifar10_present(tmp_path)
    result = download(server, tmp_path)
    assert result.returncode == 0, result.stderr
    assert cifar10_present(tmp_path)  # what the catalog tells the gallery
    archive = tmp_path / "cifar-10-python.tar.gz"
    assert archive.read_bytes() == server["body"] and "checksum verified" in result.stderr
    assert not (tmp_path / "cifar-10-python.tar.gz.part").exists()
    again = download(server, tmp_path)
    assert (
        again.returncode == 0 and "is there already" in again.stderr and len(server["ranges"]) == 1
    )  # nothing fetched twice


@pytest.mark.parametrize("honour_range", [True, False])
def test_an_interrupted_download_resumes(server, tmp_path, honour_range):
    server["honour_range"] = honour_range
    half = len(server["body"]) // 2
    (tmp_path / "cifar-10-python.tar.gz.part").write_bytes(server["body"][:half])
    result = download(server, tmp_path)
    assert result.returncode == 0, result.stderr
    assert server["ranges"] == [f"bytes={half}-"]
    assert (tmp_path / "cifar-10-python.tar.gz").read_bytes() == server[
        "body"
    ]  # a server that ignores Range: started over


def test_a_wrong_checksum_keeps_nothing(server, tmp_path):
    result = iwlab(
        "data", "download", "cifar10", "--to", str(tmp_path), "--url", server["url"]
    )  # the official MD5: not this file's
    assert result.returncode == 2 and "is not the published c58f30108f718f92721af3b95e74349a" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_offline_is_one_clear_line(tmp_path):
    (tmp_path / "cifar-10-python.tar.gz.part").write_bytes(b"x" * 10)
    result = iwlab(
        "data", "download", "cifar10", "--to", str(tmp_path), "--url", f"http://127.0.0.1:{free_port()}/c.tar.gz"
    )
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "cannot reach 127.0.0.1 (offline?)" in result.stderr and "10 bytes kept" in result.stderr


def test_unknown_data_set_exits_2(tmp_path):
    result = iwlab("data", "download", "imagenet", "--to", str(tmp_path))
    assert result.returncode == 2 and "choose from cifar10" in result.stderr
