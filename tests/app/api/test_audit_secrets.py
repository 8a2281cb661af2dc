"""No password, token or API key ever lands in logs, error bodies or the audit log."""

import json
import logging
from typing import Any

import pytest

from tests.app.conftest import ApiWorld

CANARY_PASSWORD = "CANARY-password-5b1f0e9d7c"
CANARY_NEW_PASSWORD = "CANARY-newpassword-8e2a4c6d"
CANARY_WRONG = "CANARY-wrongguess-3d9f1a7b"
CANARY_FAKE_TOKEN = "CANARY-faketoken-6c0b2e8a"


def test_secrets_never_appear_in_logs_errors_or_audit(
    world: ApiWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = world.client
    errors: list[str] = []

    def call(method: str, url: str, **kwargs: Any) -> Any:
        response = client.request(method, url, **kwargs)
        if response.status_code >= 400:
            errors.append(response.text)
        return response

    # GIVEN alice with a canary password, in a tenant
    world.user("alice", password=CANARY_PASSWORD)
    world.tenant("alpha", alice="owner")
    # WHEN every credential path is exercised, including the failing ones
    call("POST", "/api/v1/auth/login", json={"username": "alice", "password": CANARY_WRONG})
    call("POST", "/api/v1/auth/login", json={"username": CANARY_WRONG, "password": CANARY_WRONG})
    call("POST", "/api/v1/auth/login", json={"username": "alice", "password": [CANARY_WRONG]})
    pair = world.login("alice", CANARY_PASSWORD)
    token = {"Authorization": f"Bearer {pair['access_token']}"}
    rotated = call(
        "POST", "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    ).json()
    call("POST", "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})  # replay
    call("GET", "/api/v1/tenants", headers={"Authorization": f"Bearer {CANARY_FAKE_TOKEN}"})
    call("GET", "/api/v1/tenants", headers={"Authorization": f"Bearer aak_{CANARY_FAKE_TOKEN}"})
    token = world.bearer("alice", CANARY_PASSWORD)
    key = world.api_key(token, "alpha", role="viewer")
    call(
        "POST",
        "/api/v1/tenants/alpha/api-keys",
        headers={"Authorization": f"Bearer {key['key']}"},
        json={"name": "x"},
    )
    call("DELETE", f"/api/v1/tenants/alpha/api-keys/{key['id']}", headers=token)
    call("GET", "/api/v1/tenants", headers={"Authorization": f"Bearer {key['key']}"})
    call(
        "POST",
        "/api/v1/auth/password",
        headers=token,
        json={"current_password": CANARY_WRONG, "new_password": "short"},
    )
    call(
        "POST",
        "/api/v1/auth/password",
        headers=token,
        json={"current_password": CANARY_PASSWORD, "new_password": CANARY_NEW_PASSWORD},
    )
    call("GET", "/api/v1/tenants", headers=token)  # revoked by the change
    for i in range(11):  # into the lockout
        call(
            "POST",
            "/api/v1/auth/login",
            json={"username": "alice", "password": f"{CANARY_WRONG}{i}"},
        )
    # THEN none of the secrets appear anywhere they could leak
    secrets = [
        CANARY_PASSWORD,
        CANARY_NEW_PASSWORD,
        CANARY_WRONG,
        CANARY_FAKE_TOKEN,
        pair["access_token"],
        pair["refresh_token"],
        rotated["access_token"],
        rotated["refresh_token"],
        key["key"],
        key["key"][len("aak_") :],
    ]
    audit = json.dumps(world.audit())
    assert len(errors) >= 10
    for secret in secrets:
        assert secret not in caplog.text, "secret in the log"
        assert all(secret not in body for body in errors), "secret in an error body"
        assert secret not in audit, "secret in the audit log"
    # AND the audit log did record the events (so the check above is not vacuous)
    actions = {entry["action"] for entry in world.audit()}
    assert {
        "login",
        "token.refresh_replay",
        "api_key.create",
        "api_key.revoke",
        "user.password_change",
    } <= actions
