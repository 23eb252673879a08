"""`iwlab`: start the services, train a spec in-process, or submit it to a server.

One module per verb group; each registers its commands on the one `app` in `common`."""

from . import admin, data, local, remote, services  # noqa: F401  (registers the commands)
from .common import SpecLoader, app, fail, load_spec
from .services import dashboard_wsgi, make_dashboard

__all__ = ["SpecLoader", "app", "dashboard_wsgi", "fail", "load_spec", "make_dashboard"]
