"""Connectors API: CRUD, validation, role checks, and secrets that are write-only."""

import json
import logging
from typing import Any

import pytest

from agents.ingest.sources.connectors import SECRET_PURPOSE
from app.api.route_audit import tenant_routes
from storage.crypto import derive_key, unwrap
from tests.app.conftest import TENANT_404, ApiWorld

CANARY_PASSWORD = "CANARY-mailpass-71c3e9a0d4"
CANARY_NEW_PASSWORD = "CANARY-mailpass-new-2b8f6e1c"
CANARY_HOOK_SECRET = "CANARY-hooksecret-9d2e4f7a1b"
CANARY_HOOK_TOKEN = "CANARY-hooktoken-5a8c0e3f6d"
URL = "/api/v1/tenants/acme/connectors"


def imap_body(name: str = "office inbox", **config: Any) -> dict[str, Any]:
    return {
        "kind": "imap",
        "name": name,
        "config": {"host": "mail.example.test", "username": "office", **config},
        "secrets": {"password": CANARY_PASSWORD},
    }


@pytest.fixture
def people(world: ApiWorld) -> dict[str, dict[str, str]]:
    for name in ("olga", "ed", "vera", "outsider"):
        world.user(name)
    world.tenant("acme", olga="owner", ed="editor", vera="viewer")
    world.tenant("other", outsider="owner")
    return {name: world.bearer(name) for name in ("olga", "ed", "vera", "outsider")}


def test_owner_creates_lists_shows_updates_and_deletes_a_mailbox(
    world: ApiWorld, people: dict[str, dict[str, str]]
) -> None:
    owner = people["olga"]
    # WHEN the owner creates an IMAP connector
    created = world.client.post(URL, json=imap_body(port=993, folder="Invoices"), headers=owner)
    # THEN it is stored with defaults filled in and the password shown only as "set"
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["kind"] == "imap" and body["name"] == "office inbox" and body["enabled"]
    assert body["config"]["password"] == {"set": True}
    assert body["config"]["folder"] == "Invoices" and body["config"]["security"] == "tls"
    assert body["config"]["search"] == ["UNSEEN"] and body["last_run_at"] is None
    connector = f"{URL}/{body['id']}"
    # AND it is listed and shown the same way
    listed = world.client.get(URL, headers=owner).json()["items"]
    assert [c["id"] for c in listed] == [body["id"]]
    assert world.client.get(connector, headers=owner).json() == body
    # WHEN the owner renames it and changes settings without sending the password
    changed = world.client.put(
        connector,
        json={"name": "invoices", "config": {**imap_body()["config"], "take": "both"}},
        headers=owner,
    )
    # THEN the change is applied and the password is still set
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "invoices" and changed.json()["config"]["take"] == "both"
    assert changed.json()["config"]["password"] == {"set": True}
    store_secret = _stored_secrets(world, "acme", body["id"])
    assert store_secret == {"password": CANARY_PASSWORD}
    # WHEN the owner sets a new password and disables the connector
    world.client.put(
        connector,
        json={"secrets": {"password": CANARY_NEW_PASSWORD}, "enabled": False},
        headers=owner,
    )
    assert _stored_secrets(world, "acme", body["id"]) == {"password": CANARY_NEW_PASSWORD}
    assert world.client.get(connector, headers=owner).json()["enabled"] is False
    # WHEN it is deleted; THEN it is gone
    assert world.client.delete(connector, headers=owner).status_code == 204
    assert world.client.get(connector, headers=owner).status_code == 404
    assert world.client.get(URL, headers=owner).json()["items"] == []
    # AND every change is in the audit log
    actions = [e["action"] for e in world.audit() if e["action"].startswith("connector.")]
    assert actions == [
        "connector.delete",
        "connector.update",
        "connector.update",
        "connector.create",
    ]


def test_invalid_settings_are_refused_with_a_reason(
    world: ApiWorld, people: dict[str, dict[str, str]]
) -> None:
    owner = people["olga"]
    cases = [
        (imap_body(security="plain"), "only allowed to this machine"),
        (imap_body(port="imap"), "$.port"),
        (imap_body(colour="blue"), "colour"),
        (imap_body(after_success="move"), "move_to"),
        ({**imap_body(), "secrets": {}}, "password"),
        ({**imap_body(), "kind": "ftp"}, "kind must be one of"),
        ({"kind": "hook", "name": "crm", "config": {}}, "secret"),
        ({"kind": "hook", "name": "crm", "secrets": {"token": "short"}}, "at least 16"),
        (
            {**imap_body(), "secrets": {"password": CANARY_PASSWORD, "token": "x" * 20}},
            "Unknown secret",
        ),
    ]
    for body, reason in cases:
        # WHEN a connector with bad settings is posted
        response = world.client.post(URL, json=body, headers=owner)
        # THEN it is refused with 422 and a reason naming the problem
        assert response.status_code == 422, (body, response.text)
        assert response.json()["code"] == "invalid_connector"
        assert reason in response.json()["detail"], response.text
    # AND a second connector with the same name conflicts
    assert world.client.post(URL, json=imap_body(), headers=owner).status_code == 201
    assert world.client.post(URL, json=imap_body(), headers=owner).status_code == 409
    assert len(world.client.get(URL, headers=owner).json()["items"]) == 1


def test_viewers_read_and_only_owners_change_or_run(
    world: ApiWorld, people: dict[str, dict[str, str]]
) -> None:
    # GIVEN a connector of acme
    connector = world.client.post(URL, json=imap_body(), headers=people["olga"]).json()
    one = f"{URL}/{connector['id']}"
    for name in ("ed", "vera"):
        headers = people[name]
        # THEN viewers and editors read it
        assert world.client.get(URL, headers=headers).status_code == 200
        assert world.client.get(one, headers=headers).status_code == 200
        # AND cannot create, change, delete, test or poll
        assert world.client.post(URL, json=imap_body("x"), headers=headers).status_code == 403
        assert world.client.put(one, json={"name": "y"}, headers=headers).status_code == 403
        assert world.client.delete(one, headers=headers).status_code == 403
        assert world.client.post(f"{one}/test", headers=headers).status_code == 403
        assert world.client.post(f"{one}/poll", headers=headers).status_code == 403
    # AND a member of another tenant sees acme's connector as a tenant that does not exist
    outsider = world.client.get(one, headers=people["outsider"])
    assert outsider.status_code == 404 and outsider.json() == TENANT_404
    # AND the connector is unchanged
    assert world.client.get(one, headers=people["olga"]).json()["name"] == connector["name"]


def test_secrets_are_write_only_everywhere(
    world: ApiWorld, people: dict[str, dict[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    owner = people["olga"]
    bodies: list[str] = []

    def call(method: str, url: str, **kwargs: Any) -> Any:
        response = world.client.request(method, url, headers=owner, **kwargs)
        bodies.append(response.text)
        return response

    # GIVEN a mailbox and a hook with canary secrets, one also put into `config`
    mailbox = call("POST", URL, json=imap_body()).json()
    hook = call(
        "POST",
        URL,
        json={
            "kind": "hook",
            "name": "crm",
            "config": {"description": "CRM events", "token": CANARY_HOOK_TOKEN},
            "secrets": {"secret": CANARY_HOOK_SECRET},
        },
    ).json()
    # WHEN every read and write path is used, including failing ones
    call("GET", URL)
    call("GET", f"{URL}/{mailbox['id']}")
    call("GET", f"{URL}/{hook['id']}")
    call("PUT", f"{URL}/{mailbox['id']}", json={"secrets": {"password": CANARY_NEW_PASSWORD}})
    call("PUT", f"{URL}/{mailbox['id']}", json={"config": {"host": ""}})
    call("PUT", f"{URL}/{mailbox['id']}", json={"secrets": {"password": 42}})
    call("PUT", f"{URL}/{hook['id']}", json={"secrets": {"token": CANARY_PASSWORD[:8]}})
    call("POST", f"{URL}/{hook['id']}/test")
    # THEN the hook's token went to the sealed secrets, not the config
    assert hook["config"]["token"] == {"set": True}
    assert hook["config"]["secret"] == {"set": True}
    assert hook["hook_path"] == f"/api/v1/tenants/acme/hooks/{hook['id']}"
    # AND no secret appears in a response, the log, the audit log or the database config
    audit = json.dumps(world.audit())
    with world.services.tenants.database(
        world.services.system.find_tenant("acme").id
    ).read() as conn:
        stored = json.dumps(conn.execute("SELECT config FROM connectors").fetchall())
    for secret in (CANARY_PASSWORD, CANARY_NEW_PASSWORD, CANARY_HOOK_SECRET, CANARY_HOOK_TOKEN):
        assert all(secret not in body for body in bodies), "secret in a response"
        assert secret not in caplog.text, "secret in the log"
        assert secret not in audit, "secret in the audit log"
        assert secret not in stored, "secret in the clear in the database"
    # AND the audit log names which secret changed (so the check above is not vacuous)
    update = next(e for e in world.audit() if e["action"] == "connector.update")
    assert "password" in update["detail"]


def test_hook_secret_removal_and_the_last_secret_rule(
    world: ApiWorld, people: dict[str, dict[str, str]]
) -> None:
    owner = people["olga"]
    # GIVEN a hook with both a secret and a token
    hook = world.client.post(
        URL,
        json={
            "kind": "hook",
            "name": "erp",
            "secrets": {"secret": CANARY_HOOK_SECRET, "token": CANARY_HOOK_TOKEN},
        },
        headers=owner,
    ).json()
    one = f"{URL}/{hook['id']}"
    # WHEN the token is removed (null) and an empty secret is sent (keeps it)
    changed = world.client.put(
        one, json={"secrets": {"token": None, "secret": ""}}, headers=owner
    ).json()
    # THEN only the secret remains
    assert changed["config"]["token"] == {"set": False}
    assert changed["config"]["secret"] == {"set": True}
    # AND removing the last one is refused: a hook must be able to authenticate
    last = world.client.put(one, json={"secrets": {"secret": None}}, headers=owner)
    assert last.status_code == 422
    # AND a hook is not polled
    polled = world.client.post(f"{one}/poll", headers=owner)
    assert polled.status_code == 409 and polled.json()["code"] == "not_a_mailbox"


def _stored_secrets(world: ApiWorld, slug: str, connector_id: str) -> dict[str, str]:
    """Open the sealed secrets with the tenant key, as the poller does."""
    tenant_id = world.services.system.find_tenant(slug).id
    with world.services.tenants.database(tenant_id).read() as conn:
        sealed = conn.execute(
            "SELECT secret FROM connectors WHERE id = ?", (connector_id,)
        ).fetchone()[0]
    key = derive_key(world.services.tenants.data_key(tenant_id), SECRET_PURPOSE)
    return dict(json.loads(unwrap(key, bytes(sealed), connector_id)))


def test_routes_are_in_the_table_and_the_openapi_schema(
    world: ApiWorld, people: dict[str, dict[str, str]]
) -> None:
    # GIVEN the built app; THEN the contract's connector and hook routes exist
    root = "/api/v1/tenants/{tenant:str}"
    routes = {(method, path) for path, method, _ in tenant_routes(world.app)}
    assert {
        ("GET", f"{root}/connectors"),
        ("POST", f"{root}/connectors"),
        ("GET", f"{root}/connectors/{{connector_id:str}}"),
        ("PUT", f"{root}/connectors/{{connector_id:str}}"),
        ("DELETE", f"{root}/connectors/{{connector_id:str}}"),
        ("POST", f"{root}/connectors/{{connector_id:str}}/test"),
        ("POST", f"{root}/connectors/{{connector_id:str}}/poll"),
        ("POST", f"{root}/hooks/{{hook_id:str}}"),
    } <= routes
    # AND the OpenAPI document still builds and lists them
    schema = world.client.get("/api/v1/schema/openapi.json")
    assert schema.status_code == 200
    assert "/api/v1/tenants/{tenant}/hooks/{hook_id}" in schema.json()["paths"]
    assert "/api/v1/tenants/{tenant}/connectors/{connector_id}/poll" in schema.json()["paths"]


def test_a_background_poll_is_queued_with_ids_only(
    world: ApiWorld, people: dict[str, dict[str, str]]
) -> None:
    # GIVEN a mailbox and an empty queue
    connector = world.client.post(URL, json=imap_body(), headers=people["olga"]).json()
    huey = world.runtime.queue.huey
    huey.flush()
    # WHEN the owner asks for a poll in the background
    response = world.client.post(
        f"{URL}/{connector['id']}/poll?background=true", headers=people["olga"]
    )
    # THEN 202 and one ingest.poll_mailbox task carrying the two ids and nothing else
    assert response.status_code == 202 and response.json() == {"queued": True}
    tasks = [task for task in iter(huey.dequeue, None) if task.name == "ingest.poll_mailbox"]
    assert len(tasks) == 1
    payload = tasks[0].args[0]
    assert payload.__dict__ == {
        "tenant_id": world.services.system.find_tenant("acme").id,
        "connector_id": connector["id"],
    }
