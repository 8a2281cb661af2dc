"""Hostile inputs get a 4xx with the JSON error, never a 500 (issue 21, items 4, 6, 7, 8)."""

from typing import Any

import pytest

from tests.app.conftest import ApiWorld
from tests.conftest import ADMIN_PASSWORD

DEEP = "[" * 1000 + "]" * 1000
JSON = {"content-type": "application/json"}


@pytest.fixture
def admin(world: ApiWorld) -> dict[str, str]:
    world.tenant("acme")
    world.services.system.set_membership(
        world.services.system.find_tenant("acme").id,
        world.services.system.find_user("admin").id,
        "owner",
    )
    return world.bearer("admin", ADMIN_PASSWORD)


def _error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = dict(response.json())
    assert set(body) == {"status_code", "detail", "code"} and body["status_code"] == status
    if code is not None:
        assert body["code"] == code
    return body


@pytest.mark.parametrize(
    "body",
    [DEEP, '{"username": "a", "password": "b", "extra": ' + DEEP + "}"],
    ids=["top-level", "inside-a-field"],
)
def test_deeply_nested_json_is_a_400_even_without_credentials(world: ApiWorld, body: str) -> None:
    # WHEN /auth/login gets JSON nested 1,000 deep, signed in or not
    response = world.client.post("/api/v1/auth/login", content=body, headers=JSON)
    # THEN 400 with the reason, no traceback, no 500
    assert "nested deeper" in _error(response, 400, "json_too_deep")["detail"]


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("search", '{"query": "q", "filters": {"x": %s}}'),
        ("ask", '{"question": "q", "filters": {"x": %s}}'),
        ("extract", '{"text": "t", "schema": {"x": %s}}'),
        ("documents", '{"text": "t", "metadata": {"x": %s}}'),
        ("connectors", '{"kind": "imap", "name": "n", "config": {"x": %s}}'),
    ],
)
def test_deep_json_in_any_tenant_body_is_a_400(
    world: ApiWorld, admin: dict[str, str], path: str, template: str
) -> None:
    response = world.client.post(
        f"/api/v1/tenants/acme/{path}", content=template % DEEP, headers={**admin, **JSON}
    )
    _error(response, 400, "json_too_deep")


def test_moderately_nested_json_still_works(world: ApiWorld, admin: dict[str, str]) -> None:
    # GIVEN metadata nested 10 deep, with brackets inside strings too
    nested: Any = "[[[{{{ not structure"
    for _ in range(10):
        nested = {"n": [nested]}
    # WHEN uploaded as a JSON document
    response = world.client.post(
        "/api/v1/tenants/acme/documents",
        json={"text": "hello", "metadata": {"deep": nested, "s": "[" * 100}},
        headers=admin,
    )
    # THEN it is taken
    assert response.status_code == 202, response.text


def test_an_integer_beyond_64_bits_in_a_query_is_a_400(
    world: ApiWorld, admin: dict[str, str]
) -> None:
    for url in (
        "/api/v1/audit?before=9223372036854775808",
        "/api/v1/tenants/acme/audit?before=99999999999999999999999",
        "/api/v1/tenants/acme/documents?limit=9223372036854775808",
        "/api/v1/audit?limit=100000",
    ):
        _error(world.client.get(url, headers=admin), 400)
    assert world.client.get(f"/api/v1/audit?before={2**53 - 1}", headers=admin).is_success


def test_out_of_range_k_is_a_400(world: ApiWorld, admin: dict[str, str]) -> None:
    for path, body in (
        ("search", {"query": "q", "k": 10**30}),
        ("search", {"query": "q", "k": 0}),
        ("ask", {"question": "q", "k": 10**6}),
    ):
        response = world.client.post(f"/api/v1/tenants/acme/{path}", json=body, headers=admin)
        _error(response, 400)


def test_streamed_ask_with_an_invalid_filter_is_a_400_before_any_event(
    world: ApiWorld, admin: dict[str, str]
) -> None:
    # WHEN a streamed question comes with a filter that does not exist
    response = world.client.post(
        "/api/v1/tenants/acme/ask",
        json={"question": "what is due?", "stream": True, "filters": {"bogus": 1}},
        headers=admin,
    )
    # THEN it is a plain JSON 400, not an event stream that breaks off
    assert not response.headers["content-type"].startswith("text/event-stream")
    assert "bogus" in _error(response, 400, "invalid_filter")["detail"]


BAD_TEXT = {
    "newline": "ctl-a\n",
    "nul": "a\x00b",
    "escape": "a\x1b[31mred",
    "bidi": "invoice\u202egpj.exe",
    "too long": "x" * 100_000,
    "empty": "",
}


@pytest.mark.parametrize("value", list(BAD_TEXT.values()), ids=list(BAD_TEXT))
def test_tenant_slug_and_display_name_refuse_control_characters_and_length(
    world: ApiWorld, admin: dict[str, str], value: str
) -> None:
    # WHEN a tenant is created with the value as slug, or as display name
    as_slug = world.client.post("/api/v1/tenants", json={"name": value}, headers=admin)
    as_display = world.client.post(
        "/api/v1/tenants", json={"name": "fine", "display_name": value}, headers=admin
    )
    # THEN both are 422 naming the field, and no tenant (nor inbox folder) was made
    assert "'name'" in _error(as_slug, 422, "invalid_text")["detail"]
    assert "'display_name'" in _error(as_display, 422, "invalid_text")["detail"]
    slugs = {t.slug for t in world.services.system.list_tenants()}
    assert slugs == {"demo", "acme"} or slugs == {"acme"}
    inbox = world.services.data.inbox_dir
    assert not inbox.exists() or {p.name for p in inbox.iterdir()} <= {"demo", "acme"}


@pytest.mark.parametrize("slug", ["UPPER", "-dash", "a b", "a" * 64, "ünï"])
def test_a_slug_must_match_the_strict_pattern(
    world: ApiWorld, admin: dict[str, str], slug: str
) -> None:
    response = world.client.post("/api/v1/tenants", json={"name": slug}, headers=admin)
    _error(response, 422, "invalid_text")


@pytest.mark.parametrize("value", list(BAD_TEXT.values()), ids=list(BAD_TEXT))
def test_key_and_connector_names_refuse_control_characters_and_length(
    world: ApiWorld, admin: dict[str, str], value: str
) -> None:
    key = world.client.post("/api/v1/tenants/acme/api-keys", json={"name": value}, headers=admin)
    connector = world.client.post(
        "/api/v1/tenants/acme/connectors", json={"kind": "hook", "name": value}, headers=admin
    )
    labels = world.client.post(
        "/api/v1/tenants/acme/classify", json={"text": "t", "labels": [value]}, headers=admin
    )
    assert "'name'" in _error(key, 422, "invalid_text")["detail"]
    assert "'name'" in _error(connector, 422, "invalid_text")["detail"]
    assert labels.status_code in (400, 422)


def test_plain_names_with_spaces_and_accents_are_fine(
    world: ApiWorld, admin: dict[str, str]
) -> None:
    created = world.client.post(
        "/api/v1/tenants",
        json={"name": "acme-2", "display_name": "Acme Café (Nord) — 2"},
        headers=admin,
    )
    key = world.client.post(
        "/api/v1/tenants/acme/api-keys", json={"name": "Ops key ✓"}, headers=admin
    )
    assert created.status_code == 201, created.text
    assert key.status_code == 201, key.text


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("ask", {"question": "q", "stream": 0}),
        ("search", {"query": "q", "k": "5"}),
        ("connectors", {"kind": "hook", "name": "n", "enabled": 1}),
    ],
)
def test_body_values_of_the_wrong_type_are_not_coerced(
    world: ApiWorld, admin: dict[str, str], path: str, body: dict[str, Any]
) -> None:
    # WHEN a body gives a number for a boolean, or a string for a number
    response = world.client.post(f"/api/v1/tenants/acme/{path}", json=body, headers=admin)
    # THEN it is refused as the schema says, not converted
    assert "invalid request body" in _error(response, 400)["detail"]


def test_a_whole_float_counts_as_an_integer_as_in_json_schema(
    world: ApiWorld, admin: dict[str, str]
) -> None:
    response = world.client.post(
        "/api/v1/tenants/acme/search", json={"query": "q", "k": 10.0}, headers=admin
    )
    assert response.status_code == 200, response.text
    half = world.client.post(
        "/api/v1/tenants/acme/search", json={"query": "q", "k": 10.5}, headers=admin
    )
    _error(half, 400)
