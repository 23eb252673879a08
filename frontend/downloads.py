"""`/download/...`: the API's exports passed through the dashboard's own server, so a download link
works wherever the dashboard does (the browser may not reach the API, and never holds its token)."""

from __future__ import annotations

from flask import Flask, Response, abort

from .client import ApiClient, ApiError

KINDS = {("experiments", "csv"), ("experiments", "json"), ("runs", "csv")}


def href(kind: str, ident: int, ext: str) -> str:
    return f"/download/{kind}/{ident}.{ext}"


def register(server: Flask, client: ApiClient) -> None:
    @server.route("/download/<kind>/<int:ident>.<ext>")
    def download(kind: str, ident: int, ext: str) -> Response:
        if (kind, ext) not in KINDS:
            abort(404)
        try:
            body, headers = client.export(f"/{kind}/{ident}/export.{ext}")
        except ApiError as err:
            return Response(f"{err.message}\n", status=err.status or 502, mimetype="text/plain")
        keep = {k: v for k, v in headers.items() if k.lower() in ("content-type", "content-disposition")}
        return Response(body, headers=keep)
