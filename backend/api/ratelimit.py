"""Per-client rate limit on mutating requests (POST, PUT, PATCH, DELETE), as raw ASGI middleware.

A token bucket per API token, or per client address for requests without one: `burst` requests
at once, then `per_minute`. Reads are not limited: the dashboard polls them. The buckets live in
this process; with several API replicas each one limits on its own (a lab runs one).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections import OrderedDict

MUTATING = {b"POST", b"PUT", b"PATCH", b"DELETE"}
MAX_CLIENTS = 10_000  # buckets kept; the least recently seen go first (a full bucket is a fresh one)


class RateLimit:
    def __init__(self, app, per_minute: float, burst: int):
        self.app, self.rate, self.burst = app, per_minute / 60.0, float(burst)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or self.rate <= 0 or scope["method"].encode() not in MUTATING:
            return await self.app(scope, receive, send)
        wait = self._take(self._key(scope))
        if wait > 0:
            return await self._refuse(send, wait)
        await self.app(scope, receive, send)

    @staticmethod
    def _key(scope) -> str:
        authorization = dict(scope.get("headers") or []).get(b"authorization")
        if authorization:  # hashed: the limiter never holds a token
            return "token:" + hashlib.sha256(authorization).hexdigest()
        return "addr:" + (scope.get("client") or ("?", 0))[0]

    def _take(self, key: str) -> float:
        """Take one request from the key's bucket; 0 if allowed, else seconds until one is free."""
        now = time.monotonic()
        tokens, at = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        allowed = tokens >= 1
        self._buckets[key] = (tokens - 1 if allowed else tokens, now)
        while len(self._buckets) > MAX_CLIENTS:
            self._buckets.popitem(last=False)
        return 0.0 if allowed else (1 - tokens) / self.rate

    async def _refuse(self, send, wait: float) -> None:
        retry_after = max(1, math.ceil(wait))
        detail = {"detail": f"rate limit: at most {self.rate * 60:g} changes a minute (bursts of {self.burst:g}); retry in {retry_after} s"}
        body = json.dumps(detail).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"retry-after", str(retry_after).encode())]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})
