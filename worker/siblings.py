"""Sibling runs of one experiment trained as one batched program on the lab server.

A worker that claims a run also claims up to `IWLAB_BATCH_RUNS - 1` queued runs of the same
experiment that can share its program (same data, architecture and schedule; ConvNets only on a
GPU: `export.plan_batches`, as `iwlab run` decides) and trains them together (`engine/batched.py`:
9-24x the per-run loop on the 2-D sweeps). The siblings' own queue messages then find them running
and are dropped by `lifecycle.claim`, so no message is needed to start a group and none is lost.

Each run keeps its own fence (attempt), cancel flag and rows: a cancelled or superseded run stops
being written while the others go on. The batched program keeps no checkpoints: if this worker
dies, the dead-run reaper queues each of its runs again, and they restart from epoch 0 one by one
(their rows are upserted, so nothing is duplicated).
"""

from __future__ import annotations

import logging

from backend import lifecycle
from backend.datasets import local_data
from backend.settings import Settings, get_settings

from .environment import describe
from .writer import record_setup, write_epochs

log = logging.getLogger(__name__)


def claim_siblings(settings: Settings, run_id: int, claim: lifecycle.Claim, worker: str) -> dict[int, lifecycle.Claim]:
    """Claim the queued runs of `run_id`'s experiment that can train in one program with it."""
    from .engine.export import plan_batches
    from .engine.spec import RunSpec

    queued = lifecycle.queued_siblings(settings, run_id)
    if not queued:
        return {}
    ids, specs = (
        [run_id, *(i for i, _ in queued)],
        [RunSpec.model_validate(p) for p in (claim.params, *(p for _, p in queued))],
    )
    mates = next(g for g in plan_batches(specs, "auto", settings.device) if 0 in g)[1:]
    claims: dict[int, lifecycle.Claim] = {}
    for i in mates:
        if len(claims) + 1 >= settings.batch_runs:
            break
        sibling, _ = lifecycle.claim(settings, ids[i], worker)  # another worker may have taken it meanwhile
        if sibling is not None:
            claims[ids[i]] = sibling
    return claims


def execute_siblings(claims: dict[int, lifecycle.Claim], event: dict) -> dict[int, str]:
    """Train the claimed runs together; each run's outcome as `writer.write_epochs` gives it (the
    caller finishes the ones that succeeded)."""
    from .engine.engines import batched_training
    from .engine.spec import RunSpec

    settings = get_settings()
    run_ids = list(claims)
    log.info(
        "claimed %d runs of one experiment to train together",
        len(run_ids),
        extra=event | {"event": "claimed_group", "runs": run_ids},
    )
    training = batched_training(
        [local_data(settings, RunSpec.model_validate(claims[r].params)) for r in run_ids],
        device=settings.device,
        threads=settings.threads,
        datasets=settings.datasets_dir,
    )
    env = describe(str(training.device)) | {"engine": f"batched, {len(run_ids)} runs in one program"}
    record_setup(settings, claims, env, training.effective_pos_weights, training.missing, training.grid)
    return write_epochs(settings, claims, training)
