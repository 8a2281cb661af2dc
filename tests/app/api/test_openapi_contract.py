"""The OpenAPI document is the whole contract (issue 21, item 10): error statuses with the
error schema, auth, the upload and hook bodies, the SSE stream, value constraints."""

from typing import Any

import pytest

from tests.app.conftest import ApiWorld
from tests.conftest import ADMIN_PASSWORD

ERROR = {"$ref": "#/components/schemas/Error"}
METHODS = ("get", "post", "put", "delete", "patch")


@pytest.fixture
def document(world: ApiWorld) -> dict[str, Any]:
    response = world.client.get("/api/v1/schema/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_every_operation_lists_its_errors_with_the_error_schema(
    document: dict[str, Any],
) -> None:
    assert set(document["components"]["schemas"]["Error"]["required"]) == {
        "status_code",
        "detail",
        "code",
    }
    for method, path, operation in _operations(document):
        responses = operation["responses"]
        errors = {s for s in responses if s.startswith(("4", "5"))}
        assert {"400", "404"} <= errors, (method, path)
        for status in errors:
            assert responses[status]["content"]["application/json"]["schema"] == ERROR
        if "/health/" not in path:
            assert "401" in errors, (method, path)
        if method in ("post", "put"):
            assert {"413", "422"} <= errors, (method, path)


def test_signed_in_operations_declare_the_bearer_scheme_and_403_and_429(
    document: dict[str, Any],
) -> None:
    public = {"/api/v1/health/live", "/api/v1/health/ready", "/api/v1/auth/login"}
    for method, path, operation in _operations(document):
        if path in public or path.endswith(("/auth/refresh", "/hooks/{hook_id}")):
            continue
        assert operation["security"] == [{"bearer": []}], (method, path)
        assert {"403", "429"} <= set(operation["responses"]), (method, path)


def test_upload_hook_and_stream_bodies_are_described(document: dict[str, Any]) -> None:
    paths = document["paths"]
    upload = paths["/api/v1/tenants/{tenant}/documents"]["post"]["requestBody"]["content"]
    files = upload["multipart/form-data"]["schema"]["properties"]["files"]
    assert files["items"]["format"] == "binary"
    assert "application/json" in upload
    hook = paths["/api/v1/tenants/{tenant}/hooks/{hook_id}"]["post"]
    assert "application/json" in hook["requestBody"]["content"]
    assert {p["name"] for p in hook["parameters"]} >= {"X-Appliance-Signature"}
    ask = paths["/api/v1/tenants/{tenant}/ask"]["post"]["responses"]["200"]["content"]
    assert {"application/json", "text/event-stream"} <= set(ask)


def test_every_integer_parameter_has_a_range(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        for parameter in operation.get("parameters", []):
            schema = parameter["schema"]
            kinds = [schema.get("type")] + [s.get("type") for s in schema.get("oneOf", [])]
            if "integer" in kinds:
                assert "minimum" in schema and "maximum" in schema, (method, path, parameter)


def test_name_rules_are_declared_where_they_are_enforced(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    tenant = schemas["NewTenant"]["properties"]
    assert tenant["name"]["pattern"] == "^[a-z0-9][a-z0-9-]{0,62}$"
    assert tenant["display_name"]["maxLength"] == 200 and "pattern" in tenant["display_name"]
    assert "pattern" in schemas["ClassifyRequest"]["properties"]["labels"]["items"]
    assert schemas["AskRequest"]["additionalProperties"] is False


def test_options_lists_every_method_of_the_path(world: ApiWorld) -> None:
    headers = world.bearer("admin", ADMIN_PASSWORD)
    for path, methods in (
        ("/api/v1/tenants", "GET, OPTIONS, POST"),
        ("/api/v1/tenants/demo/documents/x", "DELETE, GET, OPTIONS"),
    ):
        response = world.client.options(path, headers=headers)
        assert response.headers["allow"] == methods
