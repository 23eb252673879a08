#!/usr/bin/env python3
"""Print constraints.txt: every package that iwlab's dependencies (all extras) pull, at the
version installed in this environment. `make constraints` runs it after a dependency change.

torch is written without its local build tag (2.13.0, not 2.13.0+cpu), so that one pin serves
the CPU and the CUDA builds, each installed from its own index.
"""

from __future__ import annotations

import importlib.metadata as md
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

HEADER = """\
# Versions iwlab is tested with: every package `pip install -e '.[test]'` pulls, pinned from the
# development venv (python 3.11, linux x86_64). Used as `pip install -c constraints.txt ...` by the
# Makefile, the Dockerfile and CI. torch's pin lives here only; its CPU or CUDA build comes from the
# index it is installed from (a local version such as 2.13.0+cpu satisfies torch==2.13.0).
# Regenerate after changing pyproject.toml's dependencies: `make constraints`."""


def wanted(req: Requirement, extras: set[str]) -> bool:
    return req.marker is None or any(req.marker.evaluate({"extra": e}) for e in extras | {""})


def closure(roots: list[Requirement]) -> dict[str, str]:
    """name -> installed version, for the roots and everything they require (with their extras)."""
    versions: dict[str, str] = {}
    extras_seen: dict[str, set[str]] = {}
    todo = [r for r in roots if wanted(r, set())]
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        try:
            dist = md.distribution(req.name)
        except md.PackageNotFoundError:  # a platform-only dependency not installed here
            continue
        extras = set(req.extras)
        if name in versions and extras <= extras_seen[name]:
            continue
        versions[name] = dist.version
        extras_seen[name] = extras_seen.get(name, set()) | extras
        todo += [r for r in map(Requirement, dist.requires or []) if wanted(r, extras)]
    return versions


def main() -> None:
    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        specs += [s for s in extra if not s.startswith("iwlab")]  # the extras that name iwlab's own
    print(HEADER)
    for name, version in sorted(closure([Requirement(s) for s in specs]).items()):
        print(f"{name}=={re.sub(r'[+].*$', '', version) if name == 'torch' else version}")


if __name__ == "__main__":
    main()
