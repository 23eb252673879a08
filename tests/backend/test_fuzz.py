"""Property-based fuzzing of the OpenAPI schema (schemathesis + hypothesis), in-process over ASGI:
no generated request, valid or not, may get a 5xx or raise an unhandled exception."""

from collections import Counter

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

EXAMPLES = (
    25  # per operation and mode: ~14 operations x (valid + invalid) x 25, minus the parameterless = ~600 requests
)


def send(client, case):
    """Send a generated case through the app's TestClient, which re-raises any unhandled exception."""
    kw = case.as_transport_kwargs(base_url="http://testserver")
    body = {k: kw[k] for k in ("json", "data", "content") if k in kw}
    if isinstance(body.get("data"), (bytes, str)):
        body = {"content": body["data"]}
    return client.request(kw["method"], kw["url"], headers=kw["headers"], params=kw.get("params"), **body)


def test_no_generated_request_gets_a_server_error(client):
    schema = schemathesis.openapi.from_dict(client.app.openapi())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14
    statuses: Counter[int] = Counter()
    failures: list[str] = []

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
            def fuzz(case):
                response = send(client, case)
                statuses[response.status_code] += 1
                if response.status_code >= 500:
                    failures.append(f"{response.status_code} {case.as_curl_command()}")
                assert response.status_code < 500, response.text

            try:
                fuzz()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # an operation without parameters has no invalid input

    print(dict(statuses))
    assert not failures
    assert sum(statuses.values()) >= 500
