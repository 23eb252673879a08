"""`iwlab data download`: fetch an official archive into the data folder, resumably (HTTP Range),
and keep it only if its checksum is the published one."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from worker.engine.images import CIFAR_ARCHIVE, CIFAR_ARCHIVE_MD5, CIFAR_URL

SOURCES = {"cifar10": (CIFAR_URL, CIFAR_ARCHIVE, CIFAR_ARCHIVE_MD5)}


class DownloadError(RuntimeError):
    """A download that could not finish; the message says why and what to do."""


def md5_of(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def download(url: str, dest: Path, md5: str, console: Console | None = None, timeout: float = 30) -> bool:
    """Fetch `url` into `dest`; False when a file with that checksum is there already. Bytes land in
    `dest`.part first, so an interrupted download resumes where it stopped."""
    if dest.is_file() and md5_of(dest) == md5:
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.is_file() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    try:
        with httpx.stream("GET", url, headers=headers, timeout=timeout, follow_redirects=True) as resp:
            if resp.status_code == 416:  # the part is already whole
                pass
            elif resp.status_code not in (200, 206):
                raise DownloadError(f"{url}: the server answered {resp.status_code} {resp.reason_phrase}")
            else:
                if resp.status_code == 200:  # the server ignored the range: start again
                    have = 0
                total = int(resp.headers["content-length"]) + have if "content-length" in resp.headers else None
                with part.open("ab" if have else "wb") as out, _bar(console) as bar:
                    task = bar.add_task(dest.name, total=total, completed=have)
                    for chunk in resp.iter_bytes(1 << 16):
                        out.write(chunk)
                        bar.advance(task, len(chunk))
    except httpx.TransportError as err:
        kept = (
            f"; {part.stat().st_size} bytes kept in {part.name}, run it again to resume"
            if part.is_file() and part.stat().st_size
            else ""
        )
        raise DownloadError(
            f"cannot reach {httpx.URL(url).host} (offline?): {err or type(err).__name__}{kept}"
        ) from None
    got = md5_of(part)
    if got != md5:
        part.unlink()
        raise DownloadError(
            f"{dest.name}: checksum {got} is not the published {md5}; the file was deleted, run it again"
        )
    part.replace(dest)
    return True


def _bar(console: Console | None) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console or Console(stderr=True),
    )
