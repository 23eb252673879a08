"""The dashboard's login guard through Flask's test client (no API needed for what is refused;
tests/e2e/test_login.py signs in against a real API in Chromium)."""

import pytest

from frontend.app import create_app
from frontend.auth import safe_next


@pytest.fixture
def web():
    return create_app("http://127.0.0.1:9", login=True).server.test_client()


def test_pages_redirect_to_the_login_keeping_the_view(web):
    resp = web.get("/experiments/3?epoch=12&seed=1")
    assert (
        resp.status_code == 302 and resp.headers["Location"] == "/login?next=%2Fexperiments%2F3%3Fepoch%3D12%26seed%3D1"
    )
    assert web.get("/login").status_code == 200


def test_callbacks_without_a_session_are_401_and_cross_site_posts_403(web):
    same = {"Origin": "http://localhost"}
    assert web.post("/_dash-update-component", json={}, headers=same).status_code == 401
    assert web.post("/_dash-update-component", json={}, headers={"Origin": "https://evil.example"}).status_code == 403
    assert web.post("/login", data={"username": "ada", "token": "x"}).status_code == 403  # no Origin, no Referer


def test_an_unreachable_api_is_a_message_not_a_login(web):
    resp = web.post("/login", data={"username": "ada", "token": "iwl_x"}, headers={"Origin": "http://localhost"})
    assert resp.status_code == 503 and b"Cannot check the token" in resp.data


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("/experiments/3?epoch=2", "/experiments/3?epoch=2"),
        ("//evil.example/x", "/"),
        ("https://evil.example", "/"),
        ("/login?next=/x", "/"),
        (None, "/"),
    ],
)
def test_only_paths_on_this_site_are_followed_after_login(given, kept):
    assert safe_next(given) == kept
