"""`/login` (lab mode only): a plain HTML form served by Flask, outside Dash, so it works before
there is a session for Dash's callbacks to run in."""

from __future__ import annotations

from html import escape


def page(stylesheet: str, next_path: str = "/", name: str = "", error: str | None = None) -> str:
    alert = f'<div class="alert alert-danger" id="login-error">{escape(error)}</div>' if error else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · iwlab</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/{stylesheet}"></head>
<body class="bg-light">
<nav class="navbar navbar-dark bg-primary mb-4"><div class="container-xl">
<span class="navbar-brand"><span class="fw-bold fs-4 me-2">iwlab</span><span class="small opacity-75">importance weights, epoch by epoch</span></span>
</div></nav>
<main class="container" style="max-width: 28rem">
<div class="card shadow-sm"><div class="card-body p-4">
<h2 class="h4 mb-3">Sign in</h2>
<p class="text-muted small">This lab server asks who you are. Use your user name and an API token
(an admin creates both: <code>iwlab user create NAME</code>, <code>iwlab token create NAME</code>).</p>
{alert}
<form method="post" action="/login">
<input type="hidden" name="next" value="{escape(next_path)}">
<div class="mb-3"><label class="form-label" for="username">User name</label>
<input class="form-control" id="username" name="username" value="{escape(name)}" autocomplete="username" required autofocus></div>
<div class="mb-3"><label class="form-label" for="token">API token</label>
<input class="form-control" id="token" name="token" type="password" autocomplete="current-password" required></div>
<button class="btn btn-primary w-100" id="login-submit" type="submit">Sign in</button>
</form></div></div></main></body></html>"""
