"""Dataset readers: the official pickle layout, JPEG trees (folder or .tar.gz), bad input, and the
real CIFAR-10 images."""

import hashlib
import io
import pickle
import tarfile

import numpy as np
import pytest
import torch
from PIL import Image

from worker.engine.data import as_input, make_data, split_validation
from worker.engine.images import DatasetError, cifar10, image_folder
from worker.engine.spec import CIFAR10_CLASSES, RunSpec


def write_pickle_cifar(root, per_class=3):
    """A tiny CIFAR-10 in the official python layout; every image is filled with its label."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    labels = [c for c in range(10) for _ in range(per_class)]
    data = np.repeat(np.array(labels, dtype=np.uint8)[:, None], 3072, axis=1)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (folder / name).write_bytes(pickle.dumps({b"data": data, b"labels": labels}))
    return folder


def write_cifar_tree(root, per_class=3):
    """A tiny CIFAR-10 as a JPEG tree (what the engine reads without checksums): every image of
    class i is grey at 20 * i."""
    write_tree(root / "cifar10-jpeg", classes=CIFAR10_CLASSES, n=per_class, value=lambda i: 20 * i)
    return root


def md5s(folder):
    """The checksums of a test's own batches (the reader accepts only the official ones by default)."""
    return {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def jpeg(value: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (value, value, value)).save(buf, "JPEG", quality=100)
    return buf.getvalue()


def write_tree(root, classes=("ant", "bee"), n=4, value=lambda i: 40 + 160 * i):
    for split in ("train", "test"):
        for i, cls in enumerate(classes):
            (root / split / cls).mkdir(parents=True)
            for k in range(n):
                (root / split / cls / f"{k:04d}.jpg").write_bytes(jpeg(value(i)))
    return root


def test_pickle_layout_reads_labels_and_pixels(tmp_path):
    folder = write_pickle_cifar(tmp_path)
    splits, names = cifar10(str(tmp_path), checksums=md5s(folder))
    x, y = splits["train"]
    assert names[3] == "cat" and x.shape == (5 * 30, 3, 32, 32)
    assert np.all(x[:, 0, 0, 0] == y)  # pixel value == label, as written


def test_official_tarball_reads_like_the_folder(tmp_path):
    folder = write_pickle_cifar(tmp_path / "src")
    with tarfile.open(tmp_path / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
    (a, _), (b, _) = (
        cifar10(str(tmp_path / "src"), checksums=md5s(folder)),
        cifar10(str(tmp_path), checksums=md5s(folder)),
    )
    assert np.array_equal(a["test"][0], b["test"][0]) and np.array_equal(a["test"][1], b["test"][1])


def test_cifar_cat_vs_dog_with_out_of_domain(tmp_path):
    write_cifar_tree(tmp_path)
    data = make_data(
        RunSpec(dataset="cifar10", model="convnet", data_path=str(tmp_path), n_train=10, n_test=2, noise_images=5)
    )
    assert data.classes == ("cat", "dog")
    # every image is grey at 20 x its class index: cat (3) is 60, dog (5) 100; label 1 (positive) is dog
    assert set(data.x_train[data.y_train == 1, 0, 0, 0].tolist()) == {100}
    assert set(data.x_train[data.y_train == 0, 0, 0, 0].tolist()) == {60}
    assert data.evals["test"][1].tolist() == [0, 0, 1, 1]
    ood = data.evals["ood"][0]
    assert data.evals["ood"][1] is None and len(ood) == 8 * 3 and not set(ood[:, 0, 0, 0].tolist()) & {60, 100}
    assert data.evals["noise"][0].shape == (5, 3, 32, 32)


def test_jpeg_folder_and_tarball_give_the_same_images(tmp_path):
    tree = write_tree(tmp_path / "tree")
    with tarfile.open(tmp_path / "tree.tar.gz", "w:gz") as tar:
        tar.add(tree, arcname="mydata")
    (a, names_a), (b, names_b) = image_folder(str(tree)), image_folder(str(tmp_path / "tree.tar.gz"))
    assert names_a == names_b == ("ant", "bee")
    assert np.array_equal(a["train"][0], b["train"][0]) and a["train"][1].tolist() == [0] * 4 + [1] * 4
    spec = RunSpec(dataset="folder", data_path=str(tree), classes=["ant", "bee"], model="convnet", n_train=4, n_test=4)
    assert make_data(spec).counts.tolist() == [4.0, 4.0]


def test_missing_cifar_names_what_to_download(tmp_path):
    with pytest.raises(DatasetError, match="cifar-10-python.tar.gz"):
        cifar10(str(tmp_path / "nowhere"))


def test_corrupt_files_give_a_clear_error(tmp_path):
    folder = write_pickle_cifar(tmp_path / "p")
    (folder / "data_batch_3").write_bytes(b"not a pickle")
    with pytest.raises(DatasetError, match="data_batch_3"):
        cifar10(str(tmp_path / "p"), checksums=md5s(folder))
    tree = write_tree(tmp_path / "t")
    (tree / "train/ant/0002.jpg").write_bytes(b"\xff\xd8 broken")
    with pytest.raises(DatasetError, match="0002.jpg"):
        image_folder(str(tree))
    (tmp_path / "x.tar.gz").write_bytes(b"garbage")
    with pytest.raises(DatasetError, match="x.tar.gz: no image data set there"):
        image_folder(str(tmp_path / "x.tar.gz"))


def test_unknown_class_in_folder_data(tmp_path):
    tree = write_tree(tmp_path / "t")
    with pytest.raises(DatasetError, match="wasp"):
        make_data(RunSpec(dataset="folder", data_path=str(tree), classes=["ant", "wasp"], model="logreg"))


def test_images_become_floats_in_minus_one_to_one():
    x = torch.tensor([[0, 255]], dtype=torch.uint8)
    assert as_input(x).tolist() == [[-1.0, 1.0]]


def test_imbalance_subsamples_the_positive_class():
    data = make_data(RunSpec(n_train=80, imbalance=4))
    assert data.counts.tolist() == [80.0, 20.0]


def test_digits_pair_is_real_balanced_and_offline():
    data = make_data(RunSpec(dataset="digits", model="mlp", n_train=1000, n_test=1000))
    assert data.x_train.shape[1] == 64 and data.classes == ("3", "5")
    assert data.counts[0] == data.counts[1] > 100
    assert float(data.x_train.max()) == 1.0


def test_validation_split_is_stratified_and_disjoint():
    data = make_data(RunSpec(n_train=50))
    train, (x_val, y_val) = split_validation(data, 0.2, seed=0)
    assert torch.bincount(y_val).tolist() == [10, 10] and len(train.y_train) == 80
    rows = {tuple(r) for r in train.x_train.tolist()}
    assert not rows & {tuple(r) for r in x_val.tolist()}


def test_real_cifar_jpegs_cat_vs_dog(cifar_jpeg):
    data = make_data(RunSpec(dataset="cifar10", model="convnet", data_path=str(cifar_jpeg), n_train=5000, n_test=1000))
    assert data.counts.tolist() == [5000.0, 5000.0]
    assert len(data.evals["test"][1]) == 2000 and len(data.evals["ood"][0]) == 8000
    assert data.x_train.dtype == torch.uint8 and 60 < float(data.x_train.float().mean()) < 200


def test_label_noise_flips_a_seeded_share_of_the_training_labels_only():
    clean = make_data(RunSpec(n_train=50))
    noisy = make_data(RunSpec(n_train=50, label_noise=0.2))
    assert int((clean.y_train != noisy.y_train).sum()) == 20  # 20% of 100
    assert torch.equal(clean.x_train, noisy.x_train) and torch.equal(clean.y_test, noisy.y_test)
    assert torch.equal(
        noisy.y_train, make_data(RunSpec(n_train=50, label_noise=0.2, seed=3)).y_train
    )  # data_seed decides
