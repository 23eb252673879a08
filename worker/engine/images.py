"""Image data: CIFAR-10 (official python pickles, or JPEG trees) and a user's own `<split>/<class>/*.jpg`.

Every reader returns, per split, `(images uint8 (N, 3, 32, 32), labels int64 (N,))` and the class
names. Decoded arrays are cached as .npy next to the dataset root, so 60,000 JPEGs are decoded once.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import pickle
import tarfile
from collections import defaultdict
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np

from .spec import CIFAR10_CLASSES

Split = tuple[np.ndarray, np.ndarray]
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
CIFAR_HELP = (
    "download cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html and put it "
    "(or the cifar-10-batches-py/ folder it unpacks to) in {root}, or point data_path / IWLAB_DATASETS at it"
)


class DatasetError(RuntimeError):
    """A data set that is missing or unreadable; the message says what to do."""


def datasets_root() -> Path:
    if os.environ.get("IWLAB_DATASETS"):
        return Path(os.environ["IWLAB_DATASETS"]).expanduser()
    return Path(os.environ.get("IWLAB_HOME", ".iwlab")).expanduser() / "datasets"


def cifar10(data_path: str | None) -> tuple[dict[str, Split], tuple[str, ...]]:
    """CIFAR-10 from the first source found: a given path, or the standard names under the root."""
    root = Path(data_path).expanduser() if data_path else datasets_root()
    candidates = [root] if root.suffix in (".gz", ".tgz") else [
        root / "cifar-10-batches-py", root / "cifar-10-python.tar.gz", root / "cifar10-jpeg", root / "cifar10-jpeg.tar.gz", root
    ]
    for source in candidates:
        if (source / "data_batch_1").is_file() or (source.is_file() and source.name.startswith("cifar-10-python")):
            return _cached(source, _cifar_pickles)
        if (source / "train").is_dir() or (source.is_file() and source.suffix in (".gz", ".tgz")):
            splits, names = _cached(source, _image_tree)
            return _relabel(splits, names, CIFAR10_CLASSES), CIFAR10_CLASSES
    raise DatasetError(f"CIFAR-10 not found at {root}: " + CIFAR_HELP.format(root=root))


def image_folder(data_path: str) -> tuple[dict[str, Split], tuple[str, ...]]:
    """A user's binary (or multi-class) image data laid out as `<split>/<class>/*.jpg`."""
    root = Path(data_path).expanduser()
    if not root.exists():
        raise DatasetError(f"no image folder at {root}: expected {root}/train/<class>/*.jpg and {root}/test/<class>/*.jpg")
    return _cached(root, _image_tree)


# --- readers ------------------------------------------------------------------------------------


def _cifar_pickles(source: Path) -> tuple[dict[str, Split], tuple[str, ...]]:
    names = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
    with contextlib.ExitStack() as open_files:
        if source.is_dir():
            read = lambda name: (source / name).read_bytes()  # noqa: E731
        else:
            try:
                tar = open_files.enter_context(tarfile.open(source))  # noqa: SIM115 the ExitStack closes it
                members = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}
            except (tarfile.TarError, OSError, EOFError) as err:
                raise DatasetError(f"{source}: not a readable cifar-10-python.tar.gz ({err})") from None
            read = lambda name: _member_bytes(tar, members[name])  # noqa: E731

        out = {}
        for split, batches in names.items():
            xs, ys = [], []
            for name in batches:
                try:
                    batch = pickle.loads(read(name), encoding="bytes")
                    xs.append(np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
                    ys.append(np.asarray(batch[b"labels"], dtype=np.int64))
                except (KeyError, OSError, pickle.UnpicklingError, EOFError, ValueError) as err:
                    raise DatasetError(f"{source}: cannot read CIFAR batch {name} ({type(err).__name__}: {err})") from None
            out[split] = (np.concatenate(xs), np.concatenate(ys))
    return out, CIFAR10_CLASSES


def _member_bytes(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    data = tar.extractfile(member)
    if data is None:  # tarfile's answer for a member that is not a regular file
        raise KeyError(member.name)
    return data.read()


def _decode(data: bytes, where: str) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as opened:
            img = opened.convert("RGB")
            if img.size != (32, 32):
                img = img.resize((32, 32))
            return np.asarray(img, dtype=np.uint8).transpose(2, 0, 1)
    except (UnidentifiedImageError, OSError) as err:
        raise DatasetError(f"{where}: not a readable image ({err})") from None


def _image_tree(source: Path) -> tuple[dict[str, Split], tuple[str, ...]]:
    """`<split>/<class>/<file>` from a folder or a .tar.gz (one top folder allowed)."""
    found: dict[tuple[str, str], list[tuple[str, np.ndarray]]] = defaultdict(list)

    def add(rel: str, data: bytes) -> None:
        parts = Path(rel).parts
        if len(parts) >= 3 and parts[-1].lower().endswith(IMAGE_SUFFIXES) and parts[-3] in ("train", "test"):
            found[(parts[-3], parts[-2])].append((parts[-1], _decode(data, f"{source}/{rel}")))

    if source.is_dir():
        for path in sorted(source.rglob("*")):
            if path.is_file():
                add(str(path.relative_to(source)), path.read_bytes())
    else:
        try:
            with tarfile.open(source) as tar:
                for member in tar:
                    if member.isfile():
                        add(member.name, _member_bytes(tar, member))
        except (tarfile.TarError, OSError, EOFError) as err:
            raise DatasetError(f"{source}: not a readable .tar.gz of images ({err})") from None
    classes = tuple(sorted({c for _, c in found}))
    if "train" not in {s for s, _ in found} or len(classes) < 2:
        raise DatasetError(f"{source}: expected train/<class>/*.jpg and test/<class>/*.jpg with at least two classes")
    out = {}
    for split in ("train", "test"):
        xs, ys = [], []
        for label, cls in enumerate(classes):
            for _, img in sorted(found.get((split, cls), []), key=lambda item: item[0]):
                xs.append(img)
                ys.append(label)
        out[split] = (np.stack(xs) if xs else np.zeros((0, 3, 32, 32), np.uint8), np.asarray(ys, dtype=np.int64))
    return out, classes


def _relabel(splits: dict[str, Split], names: tuple[str, ...], order: tuple[str, ...]) -> dict[str, Split]:
    if set(names) != set(order):
        raise DatasetError(f"expected the CIFAR-10 classes {', '.join(order)}, found {', '.join(names)}")
    remap = np.array([order.index(n) for n in names])
    return {split: (x, remap[y]) for split, (x, y) in splits.items()}


# --- cache --------------------------------------------------------------------------------------


def _cache_dir(source: Path) -> Path:
    stat = source.stat()
    key = hashlib.sha1(f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    return datasets_root() / "cache" / f"{source.name}-{key}"


@lru_cache(maxsize=4)
def _cached(source: Path, reader: Callable[[Path], tuple[dict[str, Split], tuple[str, ...]]]) -> tuple[dict[str, Split], tuple[str, ...]]:
    folder = _cache_dir(source)
    if (folder / "done").exists():
        splits = {s: (np.load(folder / f"{s}_x.npy", mmap_mode="r"), np.load(folder / f"{s}_y.npy")) for s in ("train", "test")}
        return splits, tuple((folder / "classes.txt").read_text().split("\n"))
    splits, classes = reader(source)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for split, (x, y) in splits.items():
            np.save(folder / f"{split}_x.npy", x)
            np.save(folder / f"{split}_y.npy", y)
        (folder / "classes.txt").write_text("\n".join(classes))
        (folder / "done").touch()
    except OSError:
        pass  # a read-only cache only costs time
    return splits, classes
