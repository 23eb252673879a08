"""Accounts and API tokens.

Tokens are 256-bit random strings, so a single SHA-256 is the right way to store them (a slow
password hash protects guessable secrets; these are not guessable) and lets a request be
authenticated with one indexed lookup. The token itself is shown once, by `iwlab token create`.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .models import ApiToken, User, utcnow

ROLES = ("admin", "member")
LOCAL_USER = "local"  # the embedded stack's single user (an admin), created on first use
PREFIX = "iwl_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(session: Session, name: str, role: str = "member") -> User:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if not name or len(name) > 64:
        raise ValueError("name must be 1 to 64 characters")
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise ValueError(f"user {name!r} already exists")
    user = User(name=name, role=role)
    session.add(user)
    session.flush()
    return user


def create_token(session: Session, user_name: str, label: str = "") -> tuple[ApiToken, str]:
    """Returns the stored row and the token; only the row is kept."""
    user = session.scalar(select(User).where(User.name == user_name))
    if user is None:
        raise ValueError(f"no user {user_name!r}")
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=label, token_hash=hash_token(token))
    session.add(row)
    session.flush()
    return row, token


def revoke_token(session: Session, token_id: int) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise ValueError(f"no token {token_id}")
    row.revoked_at = row.revoked_at or utcnow()
    return row


def user_for_token(session: Session, token: str) -> User | None:
    row = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
    )
    return row.user if row is not None else None


def local_user(session: Session) -> User:
    user = session.scalar(select(User).where(User.name == LOCAL_USER))
    if user is not None:
        return user
    try:
        # Not create_user: its own "already exists" check would turn a lost race into a 500.
        user = User(name=LOCAL_USER, role="admin")
        session.add(user)
        session.commit()
        return user
    except IntegrityError:  # two first requests raced to create it: the other one won
        session.rollback()
        return session.scalars(select(User).where(User.name == LOCAL_USER)).one()


def may_change(user: User, owner_id: int | None) -> bool:
    """Only the owner or an admin may cancel or retry (experiments without an owner: admins only)."""
    return user.role == "admin" or (owner_id is not None and owner_id == user.id)
