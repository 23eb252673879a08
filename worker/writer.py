"""Writing a training's epochs to the database: one loop for a single run and for sibling runs
trained in one batched program (a single run is the case of one, plus checkpoints).

Each run keeps its own fence (attempt), cancel flag and rows. Epochs are buffered and flushed at
most `IWLAB_FLUSH_SECONDS` apart (small models finish an epoch in milliseconds); each flush is one
transaction per run (`lifecycle.flush`: epoch rows, heartbeat, cancel flag). A database that goes
away does not fail the runs: the epochs wait in memory and the flush is retried with backoff while
training goes on; the last flush retries until the database answers (`durable.persist`).

Per run the loop ends in "succeeded", "cancelled" (stopped writing at its flag, epochs kept),
"failed" (diverged: the epochs before are kept and the run is finished as failed) or "lost"
(another attempt owns the run: nothing more is written). A cancelled or failed run is finished
here, when it stops, not when the others end; the caller finishes the rest.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

from backend import lifecycle
from backend.settings import Settings

from .diverged import divergence
from .durable import persist, transient

log = logging.getLogger(__name__)


def record_setup(
    settings: Settings,
    claims: dict[int, lifecycle.Claim],
    env: dict,
    effective_pos_weights: Sequence[float | None],
    missing: dict[str, str],
    grid: Any,
) -> None:
    """What each run records before its first epoch: the environment, the effective weight its
    nominal one amounts to, the readouts it will not have (and why), and its boundary grid."""
    for (rid, claim), effective in zip(claims.items(), effective_pos_weights, strict=True):
        persist(
            partial(lifecycle.record_environment, settings, rid, claim.attempt, env, effective, missing),
            f"run {rid}: environment",
        )
        if grid is not None:  # the window the boundary frames are drawn on (2-D), or the image strip
            persist(
                partial(lifecycle.save_grid, settings, rid, claim.attempt, grid.xs, grid.ys, grid.points),
                f"run {rid}: grid",
            )


def write_epochs(
    settings: Settings,
    claims: dict[int, lifecycle.Claim],
    epochs: Iterable[Sequence[Any]],
    checkpoint: Callable[[], dict] | None = None,
) -> dict[int, str]:
    """Write `epochs` (per epoch, one EpochResult per claimed run, in the claims' order) and return
    each run's outcome. `checkpoint` (one run only): the training's state, saved with a flush every
    `IWLAB_CHECKPOINT_SECONDS` so that a run whose worker dies resumes from it."""
    if checkpoint is not None and len(claims) != 1:
        raise ValueError("checkpoints are kept for a single run only")
    run_ids = list(claims)
    outcomes: dict[int, str] = {}
    pending: dict[int, list] = {rid: [] for rid in run_ids}
    next_flush, last_checkpoint, backoff = time.monotonic() + settings.flush_seconds, time.monotonic(), 0.0

    def flush_one(rid: int, saved: tuple[int, bytes] | None, final: bool) -> None:
        call = partial(lifecycle.flush, settings, rid, claims[rid].attempt, pending[rid], saved)
        verdict = persist(call, f"run {rid}: last flush") if final else call()
        pending[rid] = []
        if verdict == "lost":
            outcomes[rid] = "lost"
            log.warning(
                "run superseded by a later attempt; no longer written",
                extra={"run_id": rid, "attempt": claims[rid].attempt, "event": "superseded"},
            )
        elif verdict == "cancel" and not final:  # the last epochs are written even if a cancel came meanwhile
            outcomes[rid] = "cancelled"
            persist(partial(lifecycle.finish, settings, rid, claims[rid].attempt, "cancelled"), f"run {rid}: finish")

    def fail(rid: int, why: str) -> None:
        """A diverged run: its epochs so far (this one's finite readouts too) are written, then it
        fails; the others go on."""
        flush_one(rid, None, final=True)
        if outcomes.get(rid) != "lost":
            outcomes[rid] = "failed"
            persist(partial(lifecycle.finish, settings, rid, claims[rid].attempt, "failed", why), f"run {rid}: finish")
        log.warning("run failed: %s", why, extra={"run_id": rid, "event": "diverged"})

    for results in epochs:
        for rid, result in zip(run_ids, results, strict=True):
            if rid not in outcomes:
                pending[rid].append(result)
                if (why := divergence(result)) is not None:
                    fail(rid, why)
        if len(outcomes) == len(run_ids):
            break  # every run stopped: stop training
        now = time.monotonic()
        if now < next_flush:
            continue
        saved = None
        if checkpoint is not None and now - last_checkpoint >= settings.checkpoint_seconds:
            saved = (results[0].epoch, _serialise(checkpoint()))
        try:
            for rid in [r for r in run_ids if r not in outcomes]:
                flush_one(rid, saved, final=False)
        except Exception as exc:
            if not transient(exc):
                raise
            # keep the epochs in memory and go on training; the next flush writes them all
            backoff = min(max(2 * backoff, settings.flush_seconds), 10.0)
            next_flush = time.monotonic() + backoff
            log.warning(
                "flush failed (%s); %d epochs buffered, retrying in %.1f s",
                lifecycle.first_line(exc),
                sum(len(p) for p in pending.values()),
                backoff,
                extra={"runs": run_ids, "event": "flush_retry"},
            )
            continue
        backoff, next_flush = 0.0, time.monotonic() + settings.flush_seconds
        last_checkpoint = now if saved is not None else last_checkpoint
        if len(outcomes) == len(run_ids):
            break  # every run cancelled or lost: stop training
    for rid in [r for r in run_ids if r not in outcomes]:  # the last epochs (training may also have stopped early)
        flush_one(rid, None, final=True)
    return {rid: outcomes.get(rid, "succeeded") for rid in run_ids}


def _serialise(state: dict) -> bytes:
    import torch  # the worker's, never the API's

    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()
