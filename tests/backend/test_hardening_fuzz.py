"""schemathesis with its checks against a lab-mode API (Postgres, a token), in-process over ASGI:
no generated request, valid or not, gets a 5xx or a status code, content type, header or body that
the OpenAPI schema does not document (issue 14, Done-when).

Two checks are left out, on purpose: `positive_data_acceptance` (the spec's cross-field rules, e.g.
every swept value must make a valid run, cannot be written in a JSON schema, so schema-valid bodies
are rightly refused with 422) and `negative_data_rejection` (unknown query parameters are ignored,
as FastAPI does, and the token this test adds makes a "missing header" case valid)."""

from collections import Counter

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from backend import auth
from backend.app import create_app
from backend.db import session_scope
from backend.settings import Settings

EXAMPLES = 8  # per operation and mode: ~25 operations x 2 modes x 8


def test_no_generated_request_gets_a_server_error_or_an_undocumented_answer(postgres_url, tmp_path):
    lab = Settings(home=tmp_path, database_url=postgres_url, auth="required", rate_limit_per_minute=0)
    app = create_app(lab)
    with TestClient(app):
        with session_scope(lab.db_url) as s:
            auth.create_user(s, "admin", role="admin")
            token = auth.create_token(s, "admin")[1]
        schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
        statuses: Counter[int] = Counter()
        failures: list[str] = []
        for result in schema.get_all_operations():
            operation = result.ok()
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

                @given(case=operation.as_strategy(generation_mode=mode))
                @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
                def fuzz(case):
                    response = case.call_and_validate(
                        headers={"Authorization": f"Bearer {token}"},
                        excluded_checks=[positive_data_acceptance, negative_data_rejection],
                    )
                    statuses[response.status_code] += 1

                try:
                    fuzz()
                except Unsatisfiable:
                    assert mode is GenerationMode.NEGATIVE  # an operation without parameters has no invalid input
                except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collected, so one run names every failing operation
                    failures.append(f"{operation.label} ({mode.name}): {str(exc)[:600]}")
    print(dict(statuses))
    assert not failures, "\n\n".join(failures)
    assert not [code for code in statuses if code >= 500]
    assert sum(statuses.values()) >= 200
