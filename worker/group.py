"""Sibling runs of one experiment trained as one batched program on the lab server.

A worker that claims a run also claims up to `IWLAB_BATCH_RUNS - 1` queued runs of the same
experiment that can share its program (same data, architecture and schedule; ConvNets only on a
GPU: `export.plan_groups`, as `iwlab run` decides) and trains them together (`engine/batched.py`:
9-24x the per-run loop on the 2-D sweeps). The siblings' own queue messages then find them running
and are dropped by `lifecycle.claim`, so no message is needed to start a group and none is lost.

Each run keeps its own fence (attempt), cancel flag and rows: a cancelled or superseded run stops
being written while the others go on. The batched program keeps no checkpoints: if this worker
dies, the dead-run reaper queues each of its runs again, and they restart from epoch 0 one by one
(their rows are upserted, so nothing is duplicated).
"""

from __future__ import annotations

import logging
import time
from functools import partial

from backend import lifecycle
from backend.datasets import local_data
from backend.settings import Settings, get_settings

from .diverged import divergence
from .durable import persist, transient
from .environment import describe

log = logging.getLogger(__name__)


def claim_siblings(settings: Settings, run_id: int, claim: lifecycle.Claim, worker: str) -> dict[int, lifecycle.Claim]:
    """Claim the queued runs of `run_id`'s experiment that can train in one program with it."""
    from .engine.export import plan_groups
    from .engine.spec import RunSpec

    queued = lifecycle.queued_siblings(settings, run_id)
    if not queued:
        return {}
    ids, specs = (
        [run_id, *(i for i, _ in queued)],
        [RunSpec.model_validate(p) for p in (claim.params, *(p for _, p in queued))],
    )
    mates = next(g for g in plan_groups(specs, "auto", settings.device) if 0 in g)[1:]
    claims: dict[int, lifecycle.Claim] = {}
    for i in mates:
        if len(claims) + 1 >= settings.batch_runs:
            break
        sibling, _ = lifecycle.claim(settings, ids[i], worker)  # another worker may have taken it meanwhile
        if sibling is not None:
            claims[ids[i]] = sibling
    return claims


def execute_group(claims: dict[int, lifecycle.Claim], event: dict) -> dict[int, str]:
    """Train the claimed runs together. Per run: "succeeded", "cancelled" (stopped writing at its
    flag, epochs kept) or "lost" (another attempt owns it). The caller finishes them."""
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
    grid = training.grid  # 2-D runs: the window the boundary frames are drawn on, shared by the group

    for rid, effective in zip(run_ids, training.effective_pos_weights):
        persist(
            partial(lifecycle.record_environment, settings, rid, claims[rid].attempt, env, effective, training.missing),
            f"run {rid}: environment",
        )
        if grid is not None:
            persist(
                partial(lifecycle.save_grid, settings, rid, claims[rid].attempt, grid.xs, grid.ys, grid.points),
                f"run {rid}: grid",
            )
    outcomes: dict[int, str] = {}
    pending: dict[int, list] = {rid: [] for rid in run_ids}
    next_flush, backoff = time.monotonic() + settings.flush_seconds, 0.0

    def flush(final: bool = False) -> None:
        for rid in [r for r in run_ids if r not in outcomes]:
            call = partial(lifecycle.flush, settings, rid, claims[rid].attempt, pending[rid], None)
            verdict = persist(call, f"run {rid}: last flush") if final else call()
            pending[rid] = []
            if verdict == "lost":
                outcomes[rid] = "lost"
                log.warning(
                    "run superseded by a later attempt; no longer written", extra={"run_id": rid, "event": "superseded"}
                )
            elif (
                verdict == "cancel" and not final
            ):  # finished now, not when the group ends (the caller's finish is then a fenced no-op)
                outcomes[rid] = "cancelled"
                persist(
                    partial(lifecycle.finish, settings, rid, claims[rid].attempt, "cancelled"), f"run {rid}: finish"
                )

    def fail(rid: int, why: str) -> None:
        """A diverged run: its epochs so far are written, then it fails; the others go on."""
        verdict = persist(
            partial(lifecycle.flush, settings, rid, claims[rid].attempt, pending[rid], None), f"run {rid}: last flush"
        )
        pending[rid], outcomes[rid] = [], "lost" if verdict == "lost" else "failed"
        if verdict != "lost":
            persist(lambda: lifecycle.finish(settings, rid, claims[rid].attempt, "failed", why), f"run {rid}: finish")
        log.warning("run failed: %s", why, extra={"run_id": rid, "event": "diverged"})

    for results in training:
        for rid, result in zip(run_ids, results):
            if rid not in outcomes:
                pending[rid].append(result)
                if (why := divergence(result)) is not None:
                    fail(rid, why)
        if time.monotonic() < next_flush:
            continue
        try:
            flush()
        except Exception as exc:
            if not transient(exc):
                raise
            backoff = min(
                max(2 * backoff, settings.flush_seconds), 10.0
            )  # keep the epochs; the next flush writes them all
            next_flush = time.monotonic() + backoff
            log.warning(
                "group flush failed (%s); retrying in %.1f s",
                lifecycle.first_line(exc),
                backoff,
                extra={"event": "flush_retry"},
            )
            continue
        backoff, next_flush = 0.0, time.monotonic() + settings.flush_seconds
        if len(outcomes) == len(run_ids):
            return outcomes  # every run cancelled or lost: stop training
    flush(final=True)
    return {rid: outcomes.get(rid, "succeeded") for rid in run_ids}
