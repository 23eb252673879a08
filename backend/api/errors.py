"""422 answers that can always be sent: each error's place, message and type, never the input.

FastAPI's default answer repeats the input (and pydantic's context), which is exactly what a bad
request may not let it encode: a lone surrogate is not UTF-8, NaN is not JSON. Text that names the
place (a sweep key is the member's own text) is escaped instead of dropped."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


def encodable(text: object) -> str:
    return str(text).encode("utf-8", "backslashreplace").decode("utf-8")


def plain_errors(errors) -> list[dict]:
    return [
        {
            "loc": [p if isinstance(p, int) else encodable(p) for p in e.get("loc", ())],
            "msg": encodable(e.get("msg", "")),
            "type": encodable(e.get("type", "value_error")),
        }
        for e in errors
    ]


async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    return JSONResponse({"detail": plain_errors(exc.errors())}, status_code=422)
