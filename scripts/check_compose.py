#!/usr/bin/env python3
"""Validate docker-compose.yml without a Docker engine (CI has none).

Checks what `docker compose config` would catch that matters here, plus iwlab's own
contract: the five services, their commands (the dashboard under gunicorn), healthchecks, health-gated depends_on,
declared named volumes, the worker's GPU reservation, the IWLAB_* wiring, and that every
${VAR} the file interpolates is documented in .env.example.

Usage: python scripts/check_compose.py [docker-compose.yml]   (exit 1 with a list of problems)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

REQUIRED = {"redis", "postgres", "backend", "frontend", "worker"}
HEALTHCHECKED = {"redis", "postgres", "backend"}
COMMANDS = {
    "backend": ["iwlab", "api"],
    "frontend": ["gunicorn"],  # a production WSGI server, not Flask's development one
    "worker": ["iwlab", "worker"],
}
DASHBOARD_WSGI = "backend.cli:dashboard_wsgi()"
VAR = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}")


def as_env(env) -> dict[str, str]:
    if env is None:
        return {}
    if isinstance(env, dict):
        return {str(k): "" if v is None else str(v) for k, v in env.items()}
    return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)


def as_cmd(cmd) -> list[str]:
    return cmd.split() if isinstance(cmd, str) else [str(c) for c in (cmd or [])]


def check(path: Path) -> list[str]:
    text = path.read_text()
    try:
        doc = yaml.safe_load(text)  # safe_load resolves anchors and `<<` merge keys
    except yaml.YAMLError as exc:
        return [f"not valid YAML: {exc}"]
    problems: list[str] = []
    if not isinstance(doc, dict) or not isinstance(doc.get("services"), dict):
        return ["no top-level `services` mapping"]
    services: dict = doc["services"]
    declared_volumes = set((doc.get("volumes") or {}).keys())

    for name in sorted(REQUIRED - services.keys()):
        problems.append(f"service `{name}` is missing")

    for name, svc in services.items():
        where = f"services.{name}"
        if not isinstance(svc, dict):
            problems.append(f"{where} is not a mapping")
            continue
        if "image" not in svc and "build" not in svc:
            problems.append(f"{where}: needs `image` or `build`")
        build = svc.get("build")
        if build is not None:
            ctx = build if isinstance(build, str) else build.get("context", ".")
            dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
            if not (path.parent / ctx / dockerfile).is_file():
                problems.append(f"{where}.build: {Path(ctx) / dockerfile} does not exist")
        deps = svc.get("depends_on") or {}
        dep_items = deps.items() if isinstance(deps, dict) else ((d, {}) for d in deps)
        for dep, spec in dep_items:
            if dep not in services:
                problems.append(f"{where}.depends_on: unknown service `{dep}`")
            cond = (spec or {}).get("condition", "service_started")
            if cond not in {"service_started", "service_healthy", "service_completed_successfully"}:
                problems.append(f"{where}.depends_on.{dep}: bad condition `{cond}`")
            if cond == "service_healthy" and dep in services and "healthcheck" not in services[dep]:
                problems.append(f"{where}.depends_on.{dep}: waits for health but `{dep}` has no healthcheck")
        for vol in svc.get("volumes") or []:
            source = vol.split(":", 1)[0] if isinstance(vol, str) else (vol or {}).get("source", "")
            named = source and not source.startswith((".", "/", "~", "$"))
            if ":" in str(vol) and named and source not in declared_volumes:
                problems.append(f"{where}.volumes: named volume `{source}` is not declared at top level")
        for port in svc.get("ports") or []:
            if not re.fullmatch(r"(\$\{[^}]+\}|\d+):\d+(/tcp|/udp)?", str(port)):
                problems.append(f"{where}.ports: unexpected `{port}`")

    for name in sorted(HEALTHCHECKED & services.keys()):
        if "test" not in (services[name].get("healthcheck") or {}):
            problems.append(f"services.{name}: needs a healthcheck with `test`")
    if "backend" in services and "/api/v1/health" not in str(services["backend"].get("healthcheck")):
        problems.append("services.backend: healthcheck should hit /api/v1/health")

    for name, prefix in COMMANDS.items():
        if name in services and as_cmd(services[name].get("command"))[: len(prefix)] != prefix:
            problems.append(f"services.{name}: command should start with `{' '.join(prefix)}`")

    for name in ("backend", "worker"):
        env = as_env(services.get(name, {}).get("environment"))
        if not env.get("IWLAB_DATABASE_URL", "").startswith("postgresql+psycopg://"):
            problems.append(f"services.{name}: IWLAB_DATABASE_URL should be postgresql+psycopg://...")
        if not env.get("IWLAB_BROKER_URL", "").startswith("redis://redis:"):
            problems.append(f"services.{name}: IWLAB_BROKER_URL should be redis://redis:6379/...")
    if "frontend" in services:
        env = as_env(services["frontend"].get("environment"))
        if env.get("IWLAB_API_URL") != "http://backend:8000":
            problems.append("services.frontend: IWLAB_API_URL should be http://backend:8000")
        cmd = as_cmd(services["frontend"].get("command"))
        if DASHBOARD_WSGI not in cmd:
            problems.append(f"services.frontend: gunicorn should serve `{DASHBOARD_WSGI}`")
        # sign-in sessions live in one process's memory: a second worker process would not know them
        if "--workers" in cmd and cmd[cmd.index("--workers") + 1 :][:1] != ["1"]:
            problems.append("services.frontend: the dashboard runs as one gunicorn worker (--workers 1)")

    devices = ((services.get("worker") or {}).get("deploy") or {}).get("resources", {}).get("reservations", {}).get(
        "devices"
    ) or []
    if not any(d.get("driver") == "nvidia" and "gpu" in (d.get("capabilities") or []) for d in devices):
        problems.append("services.worker: must reserve an nvidia GPU (deploy.resources.reservations.devices)")

    used = {m.group(1) for m in VAR.finditer(text)}
    env_example = path.parent / ".env.example"
    if not env_example.is_file():
        problems.append(".env.example is missing")
    else:
        documented = {
            line.split("=", 1)[0].strip()
            for line in env_example.read_text().splitlines()
            if "=" in line and not line.lstrip().startswith("#")
        }
        for var in sorted(used - documented):
            problems.append(f"${{{var}}} is used in {path.name} but not documented in .env.example")
    return problems


def main(argv: list[str]) -> int:
    path = Path(argv[1] if len(argv) > 1 else "docker-compose.yml")
    problems = check(path)
    for p in problems:
        print(f"{path}: {p}", file=sys.stderr)
    if not problems:
        print(f"{path}: ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
