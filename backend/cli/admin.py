"""Verbs for the lab's administrator: `db upgrade`, `user create`, `token create | revoke`."""

from __future__ import annotations

from typing import Annotated

import typer

from ..settings import get_settings
from .common import console, db_app, fail, token_app, user_app


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the Alembic migrations to IWLAB_DATABASE_URL (or the embedded SQLite file)."""
    from ..migrate import upgrade

    upgrade(get_settings().db_url)
    console.print("database is up to date")


def _db_session():
    from ..db import session_scope
    from ..migrate import upgrade

    url = get_settings().db_url
    upgrade(url)
    return session_scope(url)


@user_app.command("create")
def user_create(
    name: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[str, typer.Option(help="admin | member")] = "member",
) -> None:
    """Create a user (then give them a token with `iwlab token create NAME`)."""
    from .. import auth

    try:
        with _db_session() as s:
            user = auth.create_user(s, name, role)
            typer.echo(f"user {user.id}: {user.name} ({user.role})")
    except ValueError as err:
        raise fail(str(err)) from None


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Argument(help="the user the token acts as")],
    name: Annotated[str, typer.Option(help="a label, e.g. the machine it lives on")] = "",
) -> None:
    """Create an API token; it is printed once (stdout) and stored only as a hash."""
    from .. import auth

    try:
        with _db_session() as s:
            row, token = auth.create_token(s, user, name)
            token_id = row.id
    except ValueError as err:
        raise fail(str(err)) from None
    console.print(f"token {token_id} for {user}; it is shown only now (export IWLAB_TOKEN=...):")
    typer.echo(token)


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="the id `token create` printed")]) -> None:
    """Revoke a token: requests with it get 401 from now on."""
    from .. import auth

    try:
        with _db_session() as s:
            auth.revoke_token(s, token_id)
    except ValueError as err:
        raise fail(str(err)) from None
    console.print(f"token {token_id} revoked")


# --- datasets -------------------------------------------------------------------------------------
