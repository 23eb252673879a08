"""The statuses a run goes through, defined once. `/catalog` serves them, so the dashboard need not
keep its own copy. A StrEnum: each member equals its string, as stored in `runs.status`.

queued -> running -> succeeded | failed | cancelled; a queued run can also be cancelled, and a
finished one retried (queued again). The transitions themselves live in lifecycle.py.
"""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        """Finished: nothing more happens to the run unless someone retries it."""
        return self in TERMINAL


TERMINAL = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED})
# still to finish: what an experiment waits for
ACTIVE = frozenset({RunStatus.QUEUED, RunStatus.RUNNING})
