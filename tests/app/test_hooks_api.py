"""Inbound hooks: POST /tenants/{t}/hooks/{id} authenticated by HMAC signature or token."""

import json
import logging
import time
from typing import Any

import pytest
from litestar import post

from agents.ingest.sources.hooks import sign
from app.api.application import build_api
from app.api.route_audit import HOOK_ROUTES, unexpected_anonymous_routes
from app.runtime import build_runtime
from app.services import Services
from tests.app.conftest import TENANT_404, ApiWorld

SECRET = "CANARY-hook-hmac-secret-4e1d9a"
TOKEN = "CANARY-hook-token-value-8b27f3"
ORDER = {
    "order": "SO-1001",
    "customer": {"name": "Harbour Supplies Ltd", "country": "NL"},
    "lines": [{"sku": "P-7", "qty": 12}, {"sku": "P-9", "qty": 3}],
    "tags": ["priority", "export"],
    "paid": True,
}


@pytest.fixture
def hook(world: ApiWorld) -> dict[str, Any]:
    """An owner of acme and an enabled hook there with both a secret and a token."""
    world.user("olga")
    world.tenant("acme", olga="owner")
    world.tenant("other")
    response = world.client.post(
        "/api/v1/tenants/acme/connectors",
        json={
            "kind": "hook",
            "name": "crm events",
            "config": {"title_field": "order"},
            "secrets": {"secret": SECRET, "token": TOKEN},
        },
        headers=world.bearer("olga"),
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def signed(body: bytes, at: int | None = None, secret: str = SECRET) -> dict[str, str]:
    stamp = int(time.time()) if at is None else at
    return {
        "X-Appliance-Timestamp": str(stamp),
        "X-Appliance-Signature": sign(secret, stamp, body),
        "Content-Type": "application/json",
    }


def documents(world: ApiWorld) -> list[dict[str, Any]]:
    response = world.client.get(
        "/api/v1/tenants/acme/documents?source=hook", headers=world.bearer("olga")
    )
    return list(response.json()["items"])


def test_a_signed_delivery_becomes_documents_with_metadata(
    world: ApiWorld, hook: dict[str, Any]
) -> None:
    # GIVEN two records, signed with the hook secret, with no user login at all
    body = json.dumps([ORDER, {"order": "SO-1002", "note": "call back"}]).encode()
    # WHEN they are posted to the hook's path
    response = world.client.post(hook["hook_path"], content=body, headers=signed(body))
    # THEN 202 with one document per record
    assert response.status_code == 202, response.text
    ids = response.json()["document_ids"]
    assert len(ids) == 2 and all(not i["duplicate"] for i in response.json()["items"])
    stored = {d["id"]: d for d in documents(world)}
    assert set(stored) == set(ids)
    first = stored[ids[0]]
    # AND the document has source hook, the hook as reference, fields as metadata
    assert first["source"] == "hook" and first["source_ref"] == hook["id"]
    assert first["title"] == "SO-1001"  # the configured title_field
    metadata = first["metadata"]
    assert metadata["customer.name"] == "Harbour Supplies Ltd"
    assert metadata["lines.1.qty"] == 3 and metadata["tags"] == ["priority", "export"]
    assert metadata["hook"] == "crm events" and metadata["record_index"] == 0
    # AND the content is the record as readable text
    original = world.client.get(
        f"/api/v1/tenants/acme/documents/{ids[0]}/original", headers=world.bearer("olga")
    ).text
    assert "customer:\n  name: Harbour Supplies Ltd\n" in original
    assert "lines:\n  -\n    sku: P-7\n" in original and "paid: true" in original
    # AND the hook records its last delivery
    shown = world.client.get(
        f"/api/v1/tenants/acme/connectors/{hook['id']}", headers=world.bearer("olga")
    ).json()
    assert shown["last_status"] == "ok" and "2 record(s)" in shown["last_message"]


def test_the_hook_token_is_accepted_and_identical_records_are_deduplicated(
    world: ApiWorld, hook: dict[str, Any]
) -> None:
    body = json.dumps(ORDER).encode()
    headers = {"X-Appliance-Hook-Token": TOKEN, "Content-Type": "application/json"}
    # WHEN the same record is delivered twice with the token
    first = world.client.post(hook["hook_path"], content=body, headers=headers)
    second = world.client.post(hook["hook_path"], content=body, headers=headers)
    # THEN both are accepted and the second one is the same document
    assert first.status_code == second.status_code == 202
    assert second.json()["items"][0]["duplicate"] is True
    assert second.json()["document_ids"] == first.json()["document_ids"]
    assert len(documents(world)) == 1


def test_forged_stale_replayed_and_unsigned_deliveries_are_refused(
    world: ApiWorld, hook: dict[str, Any]
) -> None:
    body = json.dumps(ORDER).encode()
    path = hook["hook_path"]
    now = int(time.time())
    tolerance = world.services.settings.ingest.hook_timestamp_tolerance_s
    good = signed(body)
    assert world.client.post(path, content=body, headers=good).status_code == 202
    cases = {
        "wrong secret": signed(body, secret="another-secret-of-enough-length"),
        "body changed": {**signed(body), "X-Appliance-Signature": sign(SECRET, now, b"{}")},
        "stale": signed(body, at=now - tolerance - 5),
        "future": signed(body, at=now + tolerance + 5),
        "no timestamp": {"X-Appliance-Signature": good["X-Appliance-Signature"]},
        "replay": good,
        "wrong token": {"X-Appliance-Hook-Token": "not-the-token-at-all"},
        "user login only": world.bearer("olga"),
        "nothing": {},
    }
    for case, headers in cases.items():
        # WHEN a delivery fails authentication
        response = world.client.post(path, content=body, headers=headers)
        # THEN 401, and nothing is stored
        assert response.status_code == 401, (case, response.text)
        assert response.json()["code"] == "hook_unauthorized", case
    assert len(documents(world)) == 1
    # AND each rejection that reached the hook is in the tenant's audit log
    rejected = [e for e in world.audit() if e["action"] == "hook.rejected"]
    assert len(rejected) == 7 and all(e["outcome"] == "denied" for e in rejected)
    assert all(e["target"] == hook["id"] for e in rejected)


def test_unknown_hooks_look_exactly_like_unknown_tenants(
    world: ApiWorld, hook: dict[str, Any]
) -> None:
    body = json.dumps(ORDER).encode()
    headers = signed(body)
    acme_connectors = "/api/v1/tenants/acme/connectors"
    mailbox = world.client.post(
        acme_connectors,
        headers=world.bearer("olga"),
        json={
            "kind": "imap",
            "name": "box",
            "config": {"host": "mail.example.test", "username": "u"},
            "secrets": {"password": "whatever-password"},
        },
    ).json()
    world.client.put(
        f"{acme_connectors}/{hook['id']}", json={"name": "old hook"}, headers=world.bearer("olga")
    )
    paths = [
        "/api/v1/tenants/no-such-tenant/hooks/" + hook["id"],  # unknown tenant
        "/api/v1/tenants/acme/hooks/0123456789abcdef0123456789abcdef",  # unknown hook
        "/api/v1/tenants/other/hooks/" + hook["id"],  # another tenant's hook
        "/api/v1/tenants/acme/hooks/" + mailbox["id"],  # a connector that is not a hook
    ]
    for path in paths:
        # WHEN a correctly signed delivery goes to a hook that does not exist there
        response = world.client.post(path, content=body, headers=headers)
        # THEN the answer is the unknown-tenant 404, byte for byte
        assert response.status_code == 404 and response.json() == TENANT_404, path
    # AND a disabled hook is unknown too
    world.client.put(
        f"{acme_connectors}/{hook['id']}", json={"enabled": False}, headers=world.bearer("olga")
    )
    disabled = world.client.post(hook["hook_path"], content=body, headers=signed(body))
    assert disabled.status_code == 404 and disabled.json() == TENANT_404
    assert documents(world) == []


def test_bad_bodies_get_400_with_a_reason_and_large_ones_413(
    world: ApiWorld, hook: dict[str, Any]
) -> None:
    cases = {
        b"{not json": "not valid JSON",
        b"[1, 2]": "JSON object",
        b'"text"': "JSON object",
        b"[]": "no records",
        b'{"a": NaN}': "NaN",
        b"\xff\xfe": "UTF-8",
    }
    for body, reason in cases.items():
        # WHEN a correctly signed body is not a JSON object or an array of objects
        response = world.client.post(hook["hook_path"], content=body, headers=signed(body))
        # THEN 400 with the reason
        assert response.status_code == 400, (body, response.text)
        assert reason in response.json()["detail"], response.text
    # AND a body over the hook limit is refused before anything is stored
    huge = b'{"blob": "' + b"x" * (6 * 1024 * 1024) + b'"}'
    response = world.client.post(hook["hook_path"], content=huge, headers=signed(huge))
    assert response.status_code == 413
    assert documents(world) == []


def test_hook_secrets_never_leak_and_the_exception_is_explicit(
    world: ApiWorld, hook: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = json.dumps(ORDER).encode()
    texts = [
        world.client.post(hook["hook_path"], content=body, headers=signed(body)).text,
        world.client.post(
            hook["hook_path"], content=body, headers={"X-Appliance-Hook-Token": TOKEN[:-1] + "x"}
        ).text,
        world.client.get(
            f"/api/v1/tenants/acme/connectors/{hook['id']}", headers=world.bearer("olga")
        ).text,
    ]
    # THEN neither the secret nor the token appear in responses, logs or audit entries
    audit = json.dumps(world.audit())
    for secret in (SECRET, TOKEN):
        assert all(secret not in text for text in texts)
        assert secret not in caplog.text and secret not in audit
    # AND the hook route is the only one skipping user sign-in, as the audit list says
    assert HOOK_ROUTES == {("POST", "/api/v1/tenants/{tenant:str}/hooks/{hook_id:str}")}
    assert unexpected_anonymous_routes(world.app) == []


def test_an_app_with_another_route_skipping_sign_in_does_not_start(services: Services) -> None:
    # GIVEN a tenant route that marks itself as a hook without being listed in HOOK_ROUTES
    @post("/sneaky", opt={"hook": True}, sync_to_thread=False)
    def sneaky() -> dict[str, str]:
        return {"leaked": "yes"}

    runtime = build_runtime(services)
    # WHEN the app is built; THEN it refuses to start
    with pytest.raises(RuntimeError, match="skipping sign-in without being listed"):
        build_api(runtime, [sneaky])


def test_a_record_with_mail_like_fields_keeps_every_field_in_its_text(
    world: ApiWorld, hook: dict[str, Any]
) -> None:
    # GIVEN a CRM record whose first fields are named like mail headers
    record = {
        "from": "ada@example.org",
        "to": "sales@example.org",
        "subject": "Quote request",
        "date": "2026-11-30",
        "budget": "12000 EUR",
        "notes": "needs delivery before March",
    }
    body = json.dumps(record).encode()
    # WHEN it is delivered
    response = world.client.post(hook["hook_path"], content=body, headers=signed(body))
    assert response.status_code == 202, response.text
    document_id = response.json()["document_ids"][0]
    # AND the queue runs the parse it was given
    huey = world.runtime.queue.huey
    parses = [task for task in iter(huey.dequeue, None) if task.name == "ingest.parse"]
    assert len(parses) == 1
    huey.execute(parses[0])
    # THEN it is stored as text, not read as a mail that keeps only the mail headers
    headers = world.bearer("olga")
    shown = world.client.get(f"/api/v1/tenants/acme/documents/{document_id}", headers=headers)
    assert shown.json()["state"] == "parsed" and shown.json()["type"] == "txt", shown.text
    text = world.client.get(
        f"/api/v1/tenants/acme/documents/{document_id}/text", headers=headers
    ).json()["text"]
    assert "budget: 12000 EUR" in text and "notes: needs delivery before March" in text
    assert "subject: Quote request" in text


def test_a_signed_delivery_that_could_not_be_stored_is_taken_when_retried(
    world: ApiWorld, hook: dict[str, Any]
) -> None:
    # GIVEN a tenant whose blob folder cannot be written (a file stands in its place)
    blobs = world.services.data.tenant_blobs(world.services.system.find_tenant("acme").id)
    blobs.rename(blobs.with_name("blobs.away"))
    blobs.write_bytes(b"")
    body = json.dumps(ORDER).encode()
    headers = signed(body)
    # WHEN a signed delivery arrives, fails with a server error
    failed = world.client.post(hook["hook_path"], content=body, headers=headers)
    assert failed.status_code >= 500, failed.text
    # AND the sender retries the very same request once the disk is repaired
    blobs.unlink()
    blobs.with_name("blobs.away").rename(blobs)
    retried = world.client.post(hook["hook_path"], content=body, headers=headers)
    # THEN the retry is stored, not refused as a replay
    assert retried.status_code == 202, retried.text
    assert len(documents(world)) == 1
    # AND a second copy of that request is still a replay
    assert world.client.post(hook["hook_path"], content=body, headers=headers).status_code == 401
