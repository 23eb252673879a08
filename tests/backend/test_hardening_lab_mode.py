"""In lab mode the API's description is open, and nothing else (issue 14, item 10: decided and
documented in the README: the schema holds no data, and the docs page fetches it before it can
send a token)."""

from fastapi.testclient import TestClient

from backend.app import create_app


def test_the_schema_and_docs_are_open_every_data_route_needs_a_token(settings):
    with TestClient(create_app(settings.model_copy(update={"auth": "required"}))) as client:
        assert client.get("/api/v1/openapi.json").status_code == 200
        assert client.get("/api/v1/docs").status_code == 200
        schema = client.get("/api/v1/openapi.json").json()
        for path, operations in schema["paths"].items():
            if path == "/api/v1/health":
                continue
            for method in operations:
                url = (
                    path.replace("{experiment_id}", "1")
                    .replace("{run_id}", "1")
                    .replace("{epoch}", "0")
                    .replace("{name}", "x")
                )
                url = url.replace("{dataset_id}", "1").replace("{dataset_name}", "x")
                assert client.request(method.upper(), url).status_code == 401, (method, path)
