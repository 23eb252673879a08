"""How long the max-margin reference takes to decide, on separable and on overlapping 2-D data
(issue 11): the LP feasibility check (scipy linprog, HiGHS) that now runs first, then the SVM only
where the LP says separable, against the SVM solver alone, which on overlapping data iterates to
its limit (capped here at `--svm-iter` iterations; the engine's limit is 200,000).

    PYTHONPATH=. python bench/separability.py [--repeats 3] [--svm-iter 20000]

Prints one line per data set: points, LP decision and time, the time of the whole reference
(`geometry.max_margin_reference`) and of the SVM alone (or "gave up after N s").
"""

from __future__ import annotations

import argparse
import statistics
import time
from functools import partial

from worker.engine import geometry
from worker.engine.data import make_data
from worker.engine.spec import RunSpec

CASES = {
    "blobs (separable)": RunSpec(dataset="blobs"),
    "blobs, 2000 per class": RunSpec(dataset="blobs", n_train=2000),
    "blobs, 10% labels flipped": RunSpec(dataset="blobs", label_noise=0.1),
    "moons": RunSpec(dataset="moons"),
    "moons, 2000 per class": RunSpec(dataset="moons", n_train=2000),
}


def timed(fn, repeats: int) -> tuple[object, float]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return out, statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--svm-iter", type=int, default=20_000)
    args = parser.parse_args()
    warm = make_data(CASES["blobs (separable)"])
    geometry.linearly_separable(warm.x_train, warm.y_train)  # scipy's import is not the LP's time
    for name, spec in CASES.items():
        data = make_data(spec)
        x, y = data.x_train, data.y_train
        separable, lp = timed(partial(geometry.linearly_separable, x, y), args.repeats)
        _, whole = timed(partial(geometry.max_margin_reference, x, y), args.repeats)
        start = time.perf_counter()
        try:
            geometry.max_margin_direction(x, y, bias="augmented", max_iter=args.svm_iter)
            svm = f"{time.perf_counter() - start:.3f} s"
        except ValueError:
            svm = f"gave up after {time.perf_counter() - start:.1f} s ({args.svm_iter} iterations)"
        print(
            f"{name:28s} n={len(y):5d}  separable={separable!s:5s}  LP {lp * 1000:7.1f} ms  reference {whole * 1000:7.1f} ms  SVM alone: {svm}"
        )


if __name__ == "__main__":
    main()
