"""CIFAR sweep benchmark (issue 4): a plain per-run PyTorch DataLoader loop vs the grouped engine.

    PYTHONPATH=. nice python bench/cifar.py [--images 2000] [--epochs 2] [--width 64] [--device cpu]

The Byrd & Lipton ConvNet (`width` 64 is the paper's), 9 weights (1/256 .. 256, seed 0), batch 16,
`--epochs` epochs on `--images` real cat/dog training images (../shared/data/cifar10-jpeg.tar.gz or
`--data`), with the test accuracy on `--test-images` cat/dog test images (and `--ood` images of the
other classes) after every epoch. Per-run: what a researcher would write, one model after another:
a `Dataset` that converts each uint8 image to float (as ToTensor + Normalize(0.5, 0.5)), a shuffling
`DataLoader`, `F.cross_entropy` with class weights (the weighted mean, as `loss_norm="sum"`), SGD.
Batched: `grouped.GroupedTraining`, all 9 models as one vmapped network, data as tensors on the
device. Processes (CPU only): what `iwlab run` does there, the per-run engine in one spawned process
per run, up to two per core. Both alternate in one process; median of `--repeats`; images/s = weights x epochs x images
/ wall time. Prints a table and writes bench/results/cifar.json (or `--out`).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.settings import get_settings  # noqa: E402
from worker.engine.data import make_data  # noqa: E402
from worker.engine.grouped import GroupedTraining  # noqa: E402
from worker.engine.metrics import predictions  # noqa: E402
from worker.engine.models import ConvNet  # noqa: E402
from worker.engine.parallel import auto_jobs, train_side_by_side  # noqa: E402
from worker.engine.spec import ExperimentSpec, RunSpec  # noqa: E402

WEIGHTS9 = [4.0**k for k in range(-4, 5)]
DATASETS = get_settings().datasets_dir  # the data folder and decode cache, as `iwlab run` uses them


class Images(Dataset):
    """uint8 images -> float in [-1, 1], one at a time, as torchvision's ToTensor + Normalize would."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor):
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[i].float().div(255).sub(0.5).div(0.5), self.y[i]


def per_run(runs: list[RunSpec], device: str, test_every_epoch: list) -> None:
    data = make_data(runs[0], DATASETS)
    train_set = Images(data.x_train, data.y_train)
    tests = [Images(x, y if y is not None else torch.zeros(len(x), dtype=torch.long)) for x, y in data.evals.values()]
    for spec in runs:
        torch.manual_seed(spec.seed)
        model = ConvNet(spec.width).to(device)
        opt = torch.optim.SGD(model.parameters(), lr=spec.lr)
        class_weights = torch.tensor([1.0, spec.pos_weight], device=device)
        loader = DataLoader(train_set, batch_size=spec.batch_size, shuffle=True)
        for _ in range(spec.epochs):
            model.train()
            for x, y in loader:
                x, y = x.to(device), y.to(device)
                loss = F.cross_entropy(model(x), y, weight=class_weights)
                opt.zero_grad()
                loss.backward()
                opt.step()
            model.eval()
            with torch.no_grad():
                for test in tests:
                    pred = torch.cat([predictions(model(x.to(device))) for x, _ in DataLoader(test, batch_size=1024)])
                    test_every_epoch.append(float(pred.float().mean()))


def batched(runs: list[RunSpec], device: str, test_every_epoch: list) -> None:
    g = GroupedTraining(runs, device, datasets=DATASETS)
    for _ in range(runs[0].epochs):
        g._train_one_epoch()
        g.epoch += 1
        for x, _ in g.data.evals.values():
            test_every_epoch.append(predictions(g.logits(x).reshape(-1, 2)).float().mean().item())


def side_by_side(runs: list[RunSpec], device: str, test_every_epoch: list) -> None:
    """What `iwlab run` does with these runs on a CPU: the per-run engine (every metric, each
    epoch), one spawned process per run up to two per core (`engine/parallel.py`)."""
    for _, result in train_side_by_side(dict(enumerate(runs)), auto_jobs(runs, device), device, datasets=DATASETS):
        test_every_epoch.append(result.metrics["test"]["frac_pred_pos"])


def seconds(fn, *args) -> float:
    if args[1] == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn(*args)
    if args[1] == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def sweep(args) -> list[RunSpec]:
    base = RunSpec(
        dataset="cifar10", model="convnet", width=args.width, data_path=str(args.data), n_train=args.images // 2,
        n_test=args.test_images // 2, ood=args.ood, noise_images=0, batch_size=args.batch, epochs=args.epochs, lr=0.01,
    )  # fmt: skip
    return ExperimentSpec(base=base, sweep={"pos_weight": WEIGHTS9[: args.weights]}).runs()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000, help="training images, half cats, half dogs")
    parser.add_argument("--test-images", type=int, default=2000, help="cat/dog test images evaluated after every epoch")
    parser.add_argument("--ood", type=int, default=0, help="test images of the other 8 classes, evaluated too")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--weights", type=int, default=9)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--width", type=int, default=64, help="ConvNet width (paper: 64)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--project-epochs",
        type=int,
        default=0,
        help="also project the batched time of this many epochs (the paper: 1,000)",
    )
    parser.add_argument("--skip-per-run", action="store_true", help="time the batched side only")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "cifar10-jpeg.tar.gz")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "cifar.json")
    args = parser.parse_args(argv)
    if args.device == "cpu":
        torch.set_num_threads(1)
    runs = sweep(args)
    make_data(runs[0], DATASETS)  # decode and cache the images before timing
    images = len(runs) * args.epochs * 2 * runs[0].n_train

    naive_t, batch_t, procs_t = [], [], []
    sink: list = []
    for _ in range(args.repeats):  # alternate, so that load on a shared machine hits both sides alike
        if not args.skip_per_run:
            naive_t.append(seconds(per_run, runs, args.device, sink))
        batch_t.append(seconds(batched, runs, args.device, sink))
        if args.device == "cpu" and not args.skip_per_run:
            procs_t.append(seconds(side_by_side, runs, args.device, sink))
    batch_s = statistics.median(batch_t)
    row = {
        "runs": len(runs), "epochs": args.epochs, "train_images": 2 * runs[0].n_train, "test_images": 2 * runs[0].n_test,
        "ood_images": args.ood, "batch_size": args.batch, "width": args.width, "device": args.device,
        "per_run_s": naive_t, "batched_s": batch_t, "batched_images_per_s": images / batch_s,
        "batched_s_per_epoch": batch_s / args.epochs,
    }  # fmt: skip
    if args.project_epochs:  # every epoch trains and evaluates the same, so time scales with epochs
        row |= {
            "projected_epochs": args.project_epochs,
            "projected_minutes": batch_s / args.epochs * args.project_epochs / 60,
        }
    if naive_t:
        naive_s = statistics.median(naive_t)
        row |= {"per_run_images_per_s": images / naive_s, "ratio": naive_s / batch_s}
    if procs_t:
        procs_s = statistics.median(procs_t)
        row |= {
            "side_by_side_s": procs_t,
            "side_by_side_images_per_s": images / procs_s,
            "side_by_side_ratio": naive_s / procs_s,
        }
    if args.device == "cuda":
        row["gpu"] = torch.cuda.get_device_name()

    print(
        f"\n{'side':<10} {'median s':>9} {'images/s':>9}   ({len(runs)} weights x {args.epochs} epochs x {2 * runs[0].n_train} images, width {args.width}, {args.device})"
    )
    if naive_t:
        print(f"{'per-run':<10} {statistics.median(naive_t):>9.2f} {row['per_run_images_per_s']:>9.1f}")
    print(f"{'batched':<10} {batch_s:>9.2f} {row['batched_images_per_s']:>9.1f}")
    if procs_t:
        print(
            f"{'processes':<10} {statistics.median(procs_t):>9.2f} {row['side_by_side_images_per_s']:>9.1f}   (iwlab run on a CPU: per-run engine, {auto_jobs(runs, args.device)} processes)"
        )
    if naive_t:
        print(
            f"ratio {row['ratio']:.1f}x batched" + (f", {row['side_by_side_ratio']:.1f}x processes" if procs_t else "")
        )
    if args.project_epochs:
        print(
            f"projected: {len(runs)} weights x {args.project_epochs} epochs batched in {row['projected_minutes']:.1f} min"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"torch": torch.__version__, "threads": torch.get_num_threads(), "machine": platform.processor() or platform.machine(),
            "repeats": args.repeats, "note": "median wall time; both sides alternate in one process"}  # fmt: skip
    args.out.write_text(json.dumps({"meta": meta, "results": [row]}, indent=2))
    print(f"wrote {args.out}")
    return row


if __name__ == "__main__":
    main()
