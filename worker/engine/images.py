"""Image data: CIFAR-10 (official python pickles, or JPEG trees) and a user's own `<split>/<class>/*.jpg`.

Every reader returns, per split, `(images uint8 (N, 3, 32, 32), labels int64 (N,))` and the class
names. Decoded arrays are cached as .npy in the caller's data folder (`<root>/cache`), so 60,000 JPEGs
are decoded once; without a folder, once per process.

Data paths may come from lab members, so nothing here trusts a file: a pickle is unpickled only when
its bytes carry the official CIFAR-10 checksum, and then by an unpickler that can build nothing but
numpy arrays and plain containers; the tree readers look at a file only when its name fits the layout
and its size is within bounds; and "missing", "unreadable" and "not a data set" are one message, so
an error never tells which paths exist on a worker.

Over 300 lines: the three readers (pickles, JPEG trees, a member's folder) share the one set of
safety checks above, which is the reason they stay in one module.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import pickle
import shutil
import stat
import tarfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from functools import lru_cache, partial
from pathlib import Path

import numpy as np

from .spec import CIFAR10_CLASSES

Split = tuple[np.ndarray, np.ndarray]
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
SPLITS = ("train", "test")
MAX_IMAGE_BYTES = 16 * 2**20  # one photo; larger files are refused unread
MAX_BATCH_BYTES = 64 * 2**20  # an official CIFAR batch is 31 MB
CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR_ARCHIVE = "cifar-10-python.tar.gz"
CIFAR_ARCHIVE_MD5 = "c58f30108f718f92721af3b95e74349a"  # published by the data set's authors
# the official batches' MD5s (as torchvision checks them): the only pickles this module will open
CIFAR_BATCH_MD5 = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
}
CIFAR_HELP = (
    "run `iwlab data download cifar10` on the worker (or put cifar-10-python.tar.gz in its IWLAB_DATASETS folder)"
)


class DatasetError(RuntimeError):
    """A data set that is missing or unreadable; the message says what to do."""


def cifar10(
    data_path: str | None, root: Path | None = None, checksums: dict[str, str] = CIFAR_BATCH_MD5
) -> tuple[dict[str, Split], tuple[str, ...]]:
    """CIFAR-10 from the first source found: a given path, or the standard names under `root`, the
    caller's data folder (None: none given, so a data_path is needed, and nothing is cached on disk).
    `checksums` (batch name -> MD5) are the official ones; tests pass their own small batches'."""
    if not data_path and root is None:
        raise DatasetError("CIFAR-10: no data_path and no data folder given: " + CIFAR_HELP)
    base = Path(data_path).expanduser() if data_path else root
    assert base is not None  # one of the two, checked above
    candidates = (
        [base]
        if base.suffix in (".gz", ".tgz")
        else [
            base / "cifar-10-batches-py",
            base / CIFAR_ARCHIVE,
            base / "cifar10-jpeg",
            base / "cifar10-jpeg.tar.gz",
            base,
        ]
    )
    for source in candidates:
        if _regular(source / "data_batch_1") or (_regular(source) and source.name.startswith("cifar-10-python")):
            return _cached(source, _cifar_pickles, root, tuple(sorted(checksums.items())))
        if (source / "train").is_dir() or (_regular(source) and source.suffix in (".gz", ".tgz")):
            splits, names = _cached(source, _image_tree, root)
            return _relabel(splits, names, CIFAR10_CLASSES), CIFAR10_CLASSES
    raise DatasetError(f"CIFAR-10 not found at {base}: " + CIFAR_HELP)


def cifar10_present(root: Path) -> bool:
    """Whether `cifar10(None, root)` has something to read (the gallery's "Needs CIFAR-10" badge)."""
    return any(
        _regular(p) or p.is_dir()
        for p in (
            root / "cifar-10-batches-py" / "data_batch_1",
            root / CIFAR_ARCHIVE,
            root / "cifar10-jpeg" / "train",
            root / "cifar10-jpeg.tar.gz",
        )
    )


def image_folder(data_path: str, root: Path | None = None) -> tuple[dict[str, Split], tuple[str, ...]]:
    """A user's binary (or multi-class) image data laid out as `<split>/<class>/*.jpg`."""
    source = Path(data_path).expanduser()
    if not ((source / "train").is_dir() or _regular(source)):
        raise _no_tree(data_path)
    return _cached(source, _image_tree, root)


# --- readers ------------------------------------------------------------------------------------


def _regular(path: Path) -> bool:
    """A regular file (never a device or FIFO that a name ending in .jpg could hide)."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def _no_tree(where: object) -> DatasetError:
    # one message for missing, unreadable and wrongly laid out: the error must not map a worker's disk
    return DatasetError(
        f"{where}: no image data set there (expected train/<class>/*.jpg and test/<class>/*.jpg, "
        "or a .tar.gz of them, with at least two classes)"
    )


class _ArraysOnly(pickle.Unpickler):
    """Builds numpy arrays, dtypes and plain containers; any other global (os.system, ...) is refused."""

    ALLOWED = frozenset(
        {
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy.core.multiarray", "scalar"),
            ("numpy._core.multiarray", "scalar"),
            ("numpy.core.numeric", "_frombuffer"),
            ("numpy._core.numeric", "_frombuffer"),  # protocol 5
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
            ("_codecs", "encode"),  # bytes in a Python 3 protocol-2 pickle: str -> bytes, nothing else
        }
    )

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(
                f"refused to load {module}.{name}: only numpy arrays and plain containers are read"
            )
        return super().find_class(module, name)


def restricted_loads(data: bytes):
    """`pickle.loads` that can only build numpy arrays and plain containers."""
    return _ArraysOnly(io.BytesIO(data), encoding="bytes").load()


def _cifar_pickles(source: Path, checksums: tuple[tuple[str, str], ...]) -> tuple[dict[str, Split], tuple[str, ...]]:
    names = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
    expected = dict(checksums)
    out = {}
    with contextlib.ExitStack() as stack:
        read = _batch_reader(source, expected, stack)
        for split, batches in names.items():
            xs, ys = [], []
            for name in batches:
                try:
                    raw = read(name)
                    if hashlib.md5(raw, usedforsecurity=False).hexdigest() != expected.get(name):
                        raise DatasetError(
                            f"{source.name}: {name} is not the official CIFAR-10 batch (checksum differs); "
                            f"only the official archive is read: {CIFAR_HELP}"
                        )
                    batch = restricted_loads(raw)
                    xs.append(np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
                    ys.append(np.asarray(batch[b"labels"], dtype=np.int64))
                except (KeyError, TypeError, OSError, pickle.UnpicklingError, EOFError, ValueError) as err:
                    raise DatasetError(
                        f"{source.name}: cannot read CIFAR batch {name} ({type(err).__name__}: {err})"
                    ) from None
            out[split] = (np.concatenate(xs), np.concatenate(ys))
    return out, CIFAR10_CLASSES


def _batch_reader(source: Path, expected: dict[str, str], stack: contextlib.ExitStack) -> Callable[[str], bytes]:
    """name -> the batch's bytes, from the unpacked folder or the archive (kept open by `stack`)."""
    if source.is_dir():

        def read(name: str) -> bytes:
            path = source / name
            if not _regular(path) or path.stat().st_size > MAX_BATCH_BYTES:
                raise OSError("missing, not a regular file, or too large")
            return path.read_bytes()

        return read
    try:
        tar = stack.enter_context(tarfile.open(source))  # noqa: SIM115 -- closed by the caller's ExitStack
        members = {Path(m.name).name: m for m in tar.getmembers() if m.isfile() and Path(m.name).name in expected}
    except (tarfile.TarError, OSError, EOFError) as err:
        raise DatasetError(f"{source.name}: not a readable cifar-10-python.tar.gz ({err})") from None

    def read_member(name: str) -> bytes:
        if members[name].size > MAX_BATCH_BYTES:
            raise OSError("too large")
        return _member_bytes(tar, members[name])

    return read_member


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


def _tree_files(source: Path) -> Iterator[tuple[str, str, str, Callable[[], bytes]]]:
    """(split, class, file name, read) for every file whose place and name fit the layout; nothing
    else is opened, and a file over MAX_IMAGE_BYTES is refused before it is read."""

    def fits(parts: tuple[str, ...], size: int) -> bool:
        if not (parts[-3] in SPLITS and parts[-1].lower().endswith(IMAGE_SUFFIXES)):
            return False
        if size > MAX_IMAGE_BYTES:
            raise DatasetError(f"{'/'.join(parts)}: larger than {MAX_IMAGE_BYTES // 2**20} MiB, not read")
        return True

    if source.is_dir():
        for split in SPLITS:
            for cls in sorted(os.scandir(source / split), key=lambda e: e.name) if (source / split).is_dir() else []:
                if not cls.is_dir(follow_symlinks=False):
                    continue
                for entry in sorted(os.scandir(cls.path), key=lambda e: e.name):
                    if entry.is_file(follow_symlinks=False) and fits(
                        (split, cls.name, entry.name), entry.stat().st_size
                    ):
                        yield split, cls.name, entry.name, Path(entry.path).read_bytes
        return
    with tarfile.open(source) as tar:
        for member in tar:
            parts = Path(member.name).parts
            if member.isfile() and len(parts) in (3, 4) and fits(parts[-3:], member.size):  # one top folder allowed
                yield parts[-3], parts[-2], parts[-1], partial(_member_bytes, tar, member)


def _image_tree(source: Path) -> tuple[dict[str, Split], tuple[str, ...]]:
    """`<split>/<class>/<file>` from a folder or a .tar.gz (one top folder allowed)."""
    found: dict[tuple[str, str], list[tuple[str, np.ndarray]]] = defaultdict(list)
    try:
        for split, cls, name, read in _tree_files(source):
            found[(split, cls)].append((name, _decode(read(), f"{source.name}/{split}/{cls}/{name}")))
    except (tarfile.TarError, OSError, EOFError):
        raise _no_tree(source.name) from None
    classes = tuple(sorted({c for _, c in found}))
    if "train" not in {s for s, _ in found} or len(classes) < 2:
        raise _no_tree(source.name)
    out = {}
    for split in SPLITS:
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


def _cache_key(source: Path, args: tuple) -> str:
    info = source.stat()
    return hashlib.sha1(f"{source.resolve()}|{info.st_size}|{info.st_mtime_ns}|{args!r}".encode()).hexdigest()[:16]


def _cached(
    source: Path, reader: Callable[..., tuple[dict[str, Split], tuple[str, ...]]], root: Path | None, *args
) -> tuple[dict[str, Split], tuple[str, ...]]:
    """Decoded once per process (and, with a data folder, once per folder: under `root/cache`)."""
    key = _cache_key(source, args)
    folder = None if root is None else root / "cache" / f"{source.name}-{key}"
    return _cached_in(source, reader, folder, key, *args)


@lru_cache(maxsize=4)
def _cached_in(
    source: Path,
    reader: Callable[..., tuple[dict[str, Split], tuple[str, ...]]],
    folder: Path | None,
    key: str,  # in the lru key: a source rewritten in place is decoded again
    *args,
) -> tuple[dict[str, Split], tuple[str, ...]]:
    if folder is None:
        return reader(source, *args)
    if (folder / "done").exists():
        splits = {
            s: (np.load(folder / f"{s}_x.npy", mmap_mode="r"), np.load(folder / f"{s}_y.npy"))
            for s in ("train", "test")
        }
        return splits, tuple((folder / "classes.txt").read_text().split("\n"))
    splits, classes = reader(source, *args)
    # written under a temporary name and renamed whole: workers sharing the cache never see (or
    # overwrite) a half-written folder that another one has open
    partial = folder.with_name(f"{folder.name}.partial-{os.getpid()}")
    try:
        partial.mkdir(parents=True, exist_ok=True)
        for split, (x, y) in splits.items():
            np.save(partial / f"{split}_x.npy", x)
            np.save(partial / f"{split}_y.npy", y)
        (partial / "classes.txt").write_text("\n".join(classes))
        (partial / "done").touch()
        partial.rename(folder)
    except OSError:
        shutil.rmtree(partial, ignore_errors=True)  # a read-only cache, or another worker was first: only costs time
    return splits, classes
