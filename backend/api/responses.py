"""The error answers routes document in the OpenAPI schema, so a client (and schemathesis) knows
every status code a route can return. Each is `{"detail": ...}`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Problem(BaseModel):
    detail: Any  # a message, or (422, 413) a list of {loc, msg, type}


def documented(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": Problem, "description": WHY[code]} for code in codes}


WHY = {
    400: "the body is not JSON (or not UTF-8)",
    401: "no API token, or an invalid or revoked one (lab mode)",
    403: "only the owner or an admin may change it",
    404: "no such experiment, run, frame or worker",
    409: "the run's (or the request's) state does not allow it",
    413: "request body larger than IWLAB_MAX_BODY_BYTES",
    429: "rate limit: too many changes (mutating requests only); see Retry-After",
    503: "database unavailable; retry shortly (Retry-After)",
}
# every route behind a token
AUTHENTICATED = documented(400, 401, 413, 429, 503)
