"""The dashboard's names for run statuses are the server's (it cannot import them: it is a client
of the API, so it keeps copies that this test holds equal to what `/catalog` serves)."""

from backend.api.catalog import catalog
from frontend.components.style import FINISHED, STATUS_COLOR


def test_the_finished_statuses_are_the_catalogs_terminal_ones():
    served = catalog()["statuses"]
    assert set(FINISHED) == {s["name"] for s in served if s["terminal"]}


def test_every_status_the_catalog_serves_has_a_badge_colour():
    assert set(STATUS_COLOR) == {s["name"] for s in catalog()["statuses"]}
