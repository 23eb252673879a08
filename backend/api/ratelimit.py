"""Per-member rate limit on mutating requests (POST, PUT, PATCH, DELETE), with the `limits` library.

Applied after authentication (`deps.current_user` calls `RateLimiter.check`), so the key is the
member, whatever headers carry the token; a request whose token is missing or wrong counts against
its client address, so a token guesser is slowed as well. The counters live in the broker's Redis
on a lab server (every API process shares them), in this process's memory otherwise. Reads are not
limited: the dashboard polls them.

Token-bucket semantics as a moving window: `burst` requests within `burst / per_minute` minutes,
i.e. bursts of `burst`, `per_minute` on average.
"""

from __future__ import annotations

import logging
import math
import time

from fastapi import HTTPException, Request, status
from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from ..settings import Settings

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
log = logging.getLogger(__name__)


class RateLimiter:
    def __init__(self, settings: Settings):
        self.per_minute, self.burst = settings.rate_limit_per_minute, settings.rate_limit_burst
        self.enabled = self.per_minute > 0
        if not self.enabled:
            return
        url = settings.rate_limit_storage or (settings.broker if settings.broker.startswith("redis") else "memory://")
        self.limiter = MovingWindowRateLimiter(storage_from_string(url))
        self.item = RateLimitItemPerSecond(
            self.burst, max(1, math.ceil(self.burst * 60 / self.per_minute)), namespace="iwlab"
        )

    def check(self, request: Request, user_id: int | None) -> None:
        """Count a mutating request of this member (None: not authenticated, keyed on its address);
        429 with Retry-After once the window is full."""
        if not self.enabled or request.method not in MUTATING:
            return
        key = f"user:{user_id}" if user_id is not None else f"addr:{request.client.host if request.client else '?'}"
        try:
            if self.limiter.hit(self.item, key):
                return
            reset = self.limiter.get_window_stats(self.item, key).reset_time
        except Exception as exc:  # noqa: BLE001 the counters' Redis is away: let the request through rather than fail it
            log.warning("rate limit not checked: %s", exc)
            return
        retry_after = max(1, math.ceil(reset - time.time()))
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"rate limit: at most {self.per_minute:g} changes a minute (bursts of {self.burst}); retry in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )
