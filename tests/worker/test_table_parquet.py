"""A Parquet table is read as the same table as its CSV: same classes, features, weights and
split; a file that is not Parquet inside gets an error naming the file."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from worker.engine import table
from worker.engine.spec import RunSpec


def columns(n: int = 60, seed: int = 3) -> dict[str, list]:
    rng = np.random.default_rng(seed)
    return {
        "x1": rng.normal(size=n).round(4).tolist(),
        "x2": rng.normal(size=n).round(4).tolist(),
        "w": rng.uniform(0.5, 2.0, size=n).round(3).tolist(),
        "label": [["cat", "dog", "eel"][i % 3] for i in range(n)],
    }


def spec(path, **kw) -> RunSpec:
    return RunSpec(dataset="table", data_path=str(path), model="logreg", label_column="label", **kw)


def test_a_parquet_file_reads_as_the_same_table_as_its_csv(tmp_path):
    cols = columns()
    pq.write_table(pa.table(cols), tmp_path / "t.parquet")
    header = list(cols)
    rows = [",".join(str(cols[h][i]) for h in header) for i in range(len(cols["label"]))]
    (tmp_path / "t.csv").write_text(",".join(header) + "\n" + "\n".join(rows) + "\n")

    kw = {"weight_column": "w", "test_fraction": 0.25, "data_seed": 5}
    from_parquet, from_csv = (
        table.parse(spec(tmp_path / "t.parquet", **kw)),
        table.parse(spec(tmp_path / "t.csv", **kw)),
    )
    assert from_parquet.classes == from_csv.classes == ("cat", "dog", "eel")
    for name in ("x_train", "y_train", "w_train", "x_test", "y_test"):
        a, b = getattr(from_parquet, name), getattr(from_csv, name)
        assert a.shape == b.shape and np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float)), name


def test_a_parquet_file_with_a_text_feature_names_the_column(tmp_path):
    cols = columns() | {"x2": ["n/a"] * 60}
    pq.write_table(pa.table(cols), tmp_path / "t.parquet")
    with pytest.raises(table.TableError, match="x2"):
        table.parse(spec(tmp_path / "t.parquet"))


def test_a_file_that_only_starts_like_parquet_is_refused_naming_it(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1" + b"\0" * 64)
    with pytest.raises(table.TableError, match=r"broken\.parquet: not a readable Parquet file"):
        table.parse(spec(path))
