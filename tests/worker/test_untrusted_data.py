"""Data paths may be chosen by lab members (issue 14): a planted pickle must not run, the tree
readers must not read what does not fit the layout, and errors must not map the worker's disk."""

import hashlib
import os
import pickle
import tarfile
import tracemalloc

import numpy as np
import pytest

from tests.worker.test_datasets import write_pickle_cifar, write_tree
from worker.engine.images import (
    CIFAR_BATCH_MD5,
    DatasetError,
    cifar10,
    image_folder,
    restricted_loads,
)


class Payload:
    """Unpickling this runs a shell command (what the drill planted as data_batch_1)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def plant(tmp_path):
    folder = write_pickle_cifar(tmp_path / "data")
    marker = tmp_path / "pwned"
    (folder / "data_batch_1").write_bytes(pickle.dumps({b"data": Payload(marker), b"labels": []}))
    return folder, marker


def test_a_planted_pickle_is_refused_by_its_checksum_and_never_runs(tmp_path):
    folder, marker = plant(tmp_path)
    with pytest.raises(DatasetError, match="not the official CIFAR-10 batch"):
        cifar10(str(folder.parent))
    with tarfile.open(tmp_path / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
    with pytest.raises(DatasetError, match="not the official CIFAR-10 batch"):
        cifar10(str(tmp_path / "cifar-10-python.tar.gz"))
    assert not marker.exists()


def test_even_a_pickle_with_a_matching_checksum_can_only_build_arrays(tmp_path):
    folder, marker = plant(tmp_path)
    trusted = {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in folder.iterdir()}  # as if it were official
    with pytest.raises(DatasetError, match=r"data_batch_1 .*refused to load posix\.system"):
        cifar10(str(folder.parent), checksums=trusted)
    assert not marker.exists()


def test_the_restricted_unpickler_reads_numpy_arrays_and_plain_containers():
    batch = {
        b"data": np.arange(12, dtype=np.uint8).reshape(3, 4),
        b"labels": [1, 2, 3],
        b"name": "x",
        b"t": (1.5, None),
    }
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        back = restricted_loads(pickle.dumps(batch, protocol=protocol))
        assert (
            np.array_equal(back[b"data"], batch[b"data"]) and back[b"labels"] == [1, 2, 3] and back[b"t"] == (1.5, None)
        )


def test_the_official_checksums_are_the_published_ones():
    # the archive's MD5 is published by the authors; the batches' are torchvision's (both checked on download)
    assert CIFAR_BATCH_MD5["data_batch_1"] == "c99cafc152244af753f735de768cd75f" and len(CIFAR_BATCH_MD5) == 6


def test_the_folder_reader_never_reads_files_outside_the_layout(tmp_path):
    tree = write_tree(tmp_path / "t")
    with open(tree / "train" / "ant" / "notes.bin", "wb") as f:  # 200 MB the old reader loaded whole
        f.write(os.urandom(1 << 20) * 200)
    tracemalloc.start()
    splits, names = image_folder(str(tree))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert names == ("ant", "bee") and len(splits["train"][1]) == 8
    assert peak < 20 * 2**20, f"peak {peak / 2**20:.0f} MiB"


def test_an_oversized_image_is_refused_unread(tmp_path):
    tree = write_tree(tmp_path / "t")
    with open(tree / "train" / "bee" / "huge.jpg", "wb") as f:
        f.truncate(17 * 2**20)  # sparse: costs no disk
    with pytest.raises(DatasetError, match="huge.jpg: larger than 16 MiB"):
        image_folder(str(tree))
    with tarfile.open(tmp_path / "t.tar.gz", "w:gz") as tar:
        tar.add(tree, arcname="top")
    with pytest.raises(DatasetError, match="huge.jpg: larger than 16 MiB"):
        image_folder(str(tmp_path / "t.tar.gz"))


def test_errors_do_not_tell_which_paths_exist(tmp_path):
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "a-folder" / "secret.txt").write_text("x")
    (tmp_path / "a-file").write_text("x")
    places = {"missing": tmp_path / "nothing", "folder": tmp_path / "a-folder", "file": tmp_path / "a-file"}

    def message(read, path):
        with pytest.raises(DatasetError) as err:
            read(str(path))
        return str(err.value).replace(str(path), "PATH").replace(path.name, "PATH")

    for read in (image_folder, cifar10):
        said = {kind: message(read, path) for kind, path in places.items()}
        assert len(set(said.values())) == 1, said
