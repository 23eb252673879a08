"""Dashboard login for a lab server (IWLAB_AUTH=required): a member signs in with their name and an
API token; the dashboard then calls the API as them. The embedded stack (loopback, auth off) and a
dashboard given a fixed IWLAB_TOKEN skip all of this.

- Session: Flask's session cookie, signed with itsdangerous, HttpOnly, SameSite=Lax. It carries only
  a random session id; the token stays on the server (`Sessions`, in this process; `RedisSessions`
  on a lab server, so sessions outlive a restart and every dashboard process shares them), so a
  copied cookie dies at logout and the token itself never reaches the browser again.
- CSRF: SameSite=Lax keeps the cookie off cross-site POSTs, and every POST (login, logout, Dash
  callbacks) must come from this origin (Origin, else Referer, must name this host).
"""

from __future__ import annotations

import json
import secrets
import threading
from typing import cast
from urllib.parse import urlencode, urlsplit

import flask

from .client import ApiClient, ApiError
from .pages import login

OPEN = ("/login", "/assets/", "/_dash-component-suites/", "/_favicon.ico")  # served without a session


class Sessions:
    """session id -> (user name, API token), in this process's memory."""

    def __init__(self):
        self._by_id: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()

    def start(self, name: str, token: str) -> str:
        sid = secrets.token_urlsafe(32)
        with self._lock:
            self._by_id[sid] = (name, token)
        return sid

    def get(self, sid: str | None) -> tuple[str, str] | None:
        with self._lock:
            return self._by_id.get(sid) if sid else None

    def end(self, sid: str | None) -> None:
        with self._lock:
            if sid:
                self._by_id.pop(sid, None)


class RedisSessions:
    """`Sessions` in Redis: session id -> (user name, API token), for `ttl` seconds after its last use."""

    def __init__(self, url: str, ttl: int = 7 * 24 * 3600):
        import redis

        self._redis, self.ttl = redis.Redis.from_url(url), ttl

    @staticmethod
    def _key(sid: str) -> str:
        return f"iwlab:dashboard-session:{sid}"

    def start(self, name: str, token: str) -> str:
        sid = secrets.token_urlsafe(32)
        self._redis.set(self._key(sid), json.dumps([name, token]), ex=self.ttl)
        return sid

    def get(self, sid: str | None) -> tuple[str, str] | None:
        if not sid:
            return None
        raw = cast(bytes | None, self._redis.getex(self._key(sid), ex=self.ttl))
        return tuple(json.loads(raw)) if raw else None  # type: ignore[return-value]

    def end(self, sid: str | None) -> None:
        if sid:
            self._redis.delete(self._key(sid))


def current() -> tuple[str, str] | None:
    """(name, token) of the signed-in user of this request, if any."""
    return flask.current_app.extensions["iwlab_sessions"].get(flask.session.get("sid"))


def current_token() -> str | None:
    """What ApiClient sends for this request (outside a request, e.g. at start-up: nothing)."""
    if not flask.has_request_context():
        return None
    user = current()
    return user[1] if user else None


def same_origin() -> bool:
    source = flask.request.headers.get("Origin") or flask.request.headers.get("Referer")
    return bool(source) and urlsplit(source).netloc == flask.request.host


def install(
    server: flask.Flask, api_url: str, stylesheet: str, secret: str | None = None, sessions_url: str | None = None
) -> None:
    """Require a login for every page and callback of `server` (the Dash app's Flask server);
    `stylesheet` is the theme's path, for the login page; `sessions_url`: a Redis for the sessions."""
    server.secret_key = secret or secrets.token_hex(32)  # no secret given: sessions end with the process
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_NAME="iwlab_session"
    )
    sessions = server.extensions["iwlab_sessions"] = RedisSessions(sessions_url) if sessions_url else Sessions()

    @server.before_request
    def guard():
        request = flask.request
        if request.method == "POST" and not same_origin():
            return flask.Response("cross-site request refused", status=403)
        if request.path.startswith(OPEN) or current() is not None:
            return None
        if request.path.startswith("/_dash"):  # a callback of a page opened before the session ended
            return flask.Response("sign in again", status=401)
        return flask.redirect(
            "/login?" + urlencode({"next": request.full_path.rstrip("?")})
        )  # the view's query survives

    @server.get("/login")
    def login_page():
        return login.page(stylesheet, safe_next(flask.request.args.get("next")))

    @server.post("/login")
    def login_submit():
        form = flask.request.form
        name, token, next_path = (
            form.get("username", "").strip(),
            form.get("token", "").strip(),
            safe_next(form.get("next")),
        )
        try:
            me = ApiClient(api_url, token=token).me() if name and token else None
        except ApiError as err:
            if err.status != 401:
                return login.page(stylesheet, next_path, name, f"Cannot check the token: {err.message}"), 503
            me = None
        if me is None or me["name"] != name:
            return login.page(stylesheet, next_path, name, "Unknown user name or API token."), 401
        flask.session.clear()
        flask.session["sid"] = sessions.start(name, token)
        return flask.redirect(next_path)

    @server.post("/logout")
    def logout():
        sessions.end(flask.session.get("sid"))
        flask.session.clear()
        return flask.redirect("/login")


def safe_next(path: str | None) -> str:
    """Only a path on this site (an open redirect would hand the session to another one)."""
    return (
        path if path and path.startswith("/") and not path.startswith("//") and not path.startswith("/login") else "/"
    )
