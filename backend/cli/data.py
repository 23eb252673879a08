"""The lab's datasets: `data add | ls | rm | register | download`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.table import Table

from ..settings import get_settings
from .common import Server, api_call, auth_headers, console, data_app, fail


@data_app.command("add")
def data_add(
    file: Annotated[Path, typer.Argument(help="a CSV, Parquet or NPZ table, or a .tar.gz of <split>/<class>/*.jpg")],
    name: Annotated[str | None, typer.Option(help="the name it is listed by (default: the file's name)")] = None,
    label_column: Annotated[str | None, typer.Option(help="a table's label column, for its class counts")] = None,
    server: Server = None,
) -> None:
    """Upload a file to the lab's dataset store; a spec then names it by the printed id (dataset_id)."""
    try:
        data = file.read_bytes()
    except OSError as err:
        raise fail(f"cannot read {file}: {err.strerror}") from None
    params = {"name": name or file.name} | ({"label_column": label_column} if label_column else {})
    row = api_call("POST", "/datasets", server, content=data, params=params)
    console.print(
        f"dataset {row['id']}: {row['name']} ({row['kind']}, {row['size']} bytes, sha256 {row['sha256'][:12]}); "
        f"use it with dataset_id: {row['id']}",
        highlight=False,
    )


@data_app.command("ls")
def data_ls(server: Server = None) -> None:
    """List the lab's datasets: uploads (rows, columns, classes) and registered worker folders."""
    table = Table("id", "name", "kind", "size", "contents", "owner")
    for d in api_call("GET", "/datasets", server):
        table.add_row(
            str(d["id"]),
            d["name"],
            d["kind"],
            "" if d["size"] is None else f"{d['size']:,}",
            _contents(d),
            str(d["owner_id"] or ""),
        )
    Console().print(table)


def _contents(d: dict) -> str:
    s = d["summary"]
    if d["kind"] == "location":
        return d["path"]
    if d["kind"] == "images":
        return f"{len(s['classes'])} classes; " + ", ".join(
            f"{split} {sum(c.values())}" for split, c in s["images"].items()
        )
    if s.get("rows") is None:
        return s.get("missing", "")
    classes = (
        f"; classes {s['class_counts']}" if s.get("class_counts") else f"; {s['missing']}" if s.get("missing") else ""
    )
    return f"{s['rows']} rows x {len(s['columns'])} columns{classes}"


@data_app.command("rm")
def data_rm(
    dataset_id: Annotated[int, typer.Argument(help="the id `iwlab data ls` shows")], server: Server = None
) -> None:
    """Delete a dataset (its owner or an admin)."""
    base = (server or get_settings().api_url).rstrip("/") + "/api/v1"
    try:
        resp = httpx.delete(f"{base}/datasets/{dataset_id}", headers=auth_headers(), timeout=30)
    except httpx.HTTPError as err:
        raise fail(f"cannot reach {base}: {err}") from None
    if resp.status_code >= 400:
        raise fail(f"DELETE /datasets/{dataset_id}: {resp.status_code} {resp.text[:300]}")
    console.print(f"dataset {dataset_id} deleted")


@data_app.command("register")
def data_register(
    name: Annotated[str, typer.Argument(help="the name members put in data_path")],
    path: Annotated[str, typer.Argument(help="the folder (or archive) on every worker")],
    server: Server = None,
) -> None:
    """Admins: name a folder on the workers, the only kind of data_path a lab server accepts."""
    row = api_call("POST", "/datasets/locations", server, json={"name": name, "path": path})
    console.print(f"location {row['id']}: data_path: {row['name']} reads {row['path']} on the workers", highlight=False)


@data_app.command("download")
def data_download(
    name: Annotated[str, typer.Argument(help="cifar10")],
    to: Annotated[Path | None, typer.Option(help="the data folder (default IWLAB_DATASETS)")] = None,
    url: Annotated[
        str | None, typer.Option(help="a mirror of the official archive (its checksum is still checked)")
    ] = None,
    md5: Annotated[str | None, typer.Option(hidden=True, help="expected MD5 (tests serve a small archive)")] = None,
) -> None:
    """Download an official data set into the data folder: checksum verified, resumable."""
    from ..download import SOURCES, DownloadError, download

    if name not in SOURCES:
        raise fail(f"unknown data set {name!r}: choose from {', '.join(SOURCES)}")
    official_url, filename, official_md5 = SOURCES[name]
    dest = (to or get_settings().datasets_dir) / filename
    try:
        fetched = download(url or official_url, dest, md5 or official_md5, console)
    except (DownloadError, OSError) as err:
        raise fail(str(err)) from None
    console.print(f"{dest} {'downloaded' if fetched else 'is there already'}, checksum verified", highlight=False)
