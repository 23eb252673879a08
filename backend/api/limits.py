"""Request body size limit, as raw ASGI middleware, so an oversized body is refused before the app
parses any of it: at once by its Content-Length, or (chunked uploads) as soon as the bytes read
exceed the limit. Bodies are small JSON specs, so buffering up to the limit and replaying it costs
nothing, and the framework never sees (and cannot swallow) a half-read body."""

from __future__ import annotations

import json


class BodyLimit:
    def __init__(self, app, max_bytes: int, exempt: tuple[str, ...] = ()):
        self.app, self.max_bytes, self.exempt = (
            app,
            max_bytes,
            exempt,
        )  # exempt: uploads that stream under their own limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("path") in self.exempt:
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            return await self._refuse(send)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                return await self._refuse(send)
            if not message.get("more_body"):
                break
        body, replayed = b"".join(chunks), False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for a disconnect, as the server would

        await self.app(scope, replay, send)

    async def _refuse(self, send) -> None:
        detail = {
            "detail": [
                {"loc": ["body"], "msg": f"request body larger than {self.max_bytes} bytes", "type": "too_large"}
            ]
        }
        body = json.dumps(detail).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
