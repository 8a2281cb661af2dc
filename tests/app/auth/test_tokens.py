"""API tokens: JWT access tokens and rotating refresh tokens; every bad token gets 401."""

import base64
import hashlib
import json
import os
import time
from pathlib import Path

import jwt
import pytest

from app.auth.signing_key import JWT_KEY_NAME, load_or_create_signing_key
from app.auth.tokens import AccessTokens
from app.services import open_services
from app.settings import Settings
from storage import crypto
from tests.app.conftest import ApiWorld
from tests.conftest import run_cli, write_config

ME = "/api/v1/tenants"  # any authenticated route


@pytest.fixture
def alice(world: ApiWorld) -> ApiWorld:
    world.user("alice")
    world.tenant("alpha", alice="owner")
    return world


def _status(world: ApiWorld, token: str) -> int:
    return world.client.get(ME, headers={"Authorization": f"Bearer {token}"}).status_code


def _claims(world: ApiWorld, token: str) -> dict[str, object]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def test_login_returns_a_short_lived_hs256_token_and_a_refresh_token(alice: ApiWorld) -> None:
    # WHEN alice signs in
    body = alice.login("alice")
    # THEN she gets the documented shape; the JWT is HS256 with the expected claims
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 15 * 60
    header = jwt.get_unverified_header(body["access_token"])
    claims = _claims(alice, body["access_token"])
    assert header["alg"] == "HS256"
    assert {"sub", "tv", "exp", "iat", "jti", "typ"} <= set(claims)
    assert claims["typ"] == "access" and int(str(claims["exp"])) - int(str(claims["iat"])) == 900
    assert _status(alice, body["access_token"]) == 200


def test_wrong_password_and_unknown_user_get_the_same_401(alice: ApiWorld) -> None:
    # WHEN a wrong password and an unknown user are tried; THEN the answers are identical
    bad_password = alice.client.post(
        "/api/v1/auth/login", json={"username": "alice", "password": "x" * 20}
    )
    no_user = alice.client.post(
        "/api/v1/auth/login", json={"username": "nobody", "password": "x" * 20}
    )
    assert bad_password.status_code == no_user.status_code == 401
    assert bad_password.json() == no_user.json()


def test_expired_token_is_refused(alice: ApiWorld) -> None:
    # GIVEN a token issued with the real key an hour ago (15-minute lifetime)
    key = load_or_create_signing_key(alice.services.system_db, alice.services.master)
    user = alice.services.system.find_user("alice")
    old = AccessTokens(key, 900, clock=lambda: time.time() - 3600).issue(user)
    # WHEN it is used THEN 401, saying it expired
    response = alice.client.get(ME, headers={"Authorization": f"Bearer {old}"})
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"


def test_tampered_token_is_refused(alice: ApiWorld) -> None:
    # GIVEN a real token whose payload is edited to claim the admin's identity
    token = alice.login("alice")["access_token"]
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = alice.services.system.find_user("admin").id
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    # THEN the signature no longer matches
    assert _status(alice, f"{header}.{forged}.{signature}") == 401


def test_alg_none_token_is_refused(alice: ApiWorld) -> None:
    # GIVEN valid-looking claims with no signature at all
    # GIVEN valid-looking claims with alg none (no signature); THEN 401
    claims = _claims(alice, alice.login("alice")["access_token"])
    unsigned = jwt.encode(claims, key=None, algorithm="none")
    assert _status(alice, unsigned) == 401


def test_token_signed_with_another_key_is_refused(alice: ApiWorld) -> None:
    # GIVEN valid claims signed with a random key; THEN 401
    claims = _claims(alice, alice.login("alice")["access_token"])
    assert _status(alice, jwt.encode(claims, os.urandom(32), algorithm="HS256")) == 401


@pytest.mark.parametrize("drop", ["tv", "typ", "jti", "exp"])
def test_token_missing_a_required_claim_is_refused(alice: ApiWorld, drop: str) -> None:
    # GIVEN a genuinely signed token without one required claim; THEN 401
    key = load_or_create_signing_key(alice.services.system_db, alice.services.master)
    claims = _claims(alice, alice.login("alice")["access_token"])
    del claims[drop]
    assert _status(alice, jwt.encode(claims, key, algorithm="HS256")) == 401


def test_logout_revokes_access_and_refresh_tokens(alice: ApiWorld) -> None:
    # GIVEN two sign-ins of alice (two devices)
    first, second = alice.login("alice"), alice.login("alice")
    # WHEN she logs out from the first
    out = alice.client.post(
        "/api/v1/auth/logout", headers={"Authorization": f"Bearer {first['access_token']}"}
    )
    assert out.status_code == 204
    # THEN both devices' access and refresh tokens are dead
    assert _status(alice, first["access_token"]) == 401
    assert _status(alice, second["access_token"]) == 401
    for pair in (first, second):
        refreshed = alice.client.post(
            "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
        )
        assert refreshed.status_code == 401
    # AND signing in again works
    assert _status(alice, alice.login("alice")["access_token"]) == 200


def test_refresh_rotates_and_a_replayed_refresh_token_kills_the_family(alice: ApiWorld) -> None:
    # GIVEN a sign-in and one legitimate refresh
    first = alice.login("alice")
    second = alice.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert _status(alice, rotated["access_token"]) == 200
    # WHEN the first refresh token is presented again (a thief's copy)
    replay = alice.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    # THEN 401, and the legitimate successor is revoked too
    assert replay.status_code == 401 and replay.json()["code"] == "refresh_token_reused"
    after = alice.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]}
    )
    assert after.status_code == 401
    # AND the replay is in the audit log
    assert any(
        e["action"] == "token.refresh_replay" and e["actor"] == "alice" for e in alice.audit()
    )


def test_an_unrelated_sign_in_survives_a_replay_in_another_family(alice: ApiWorld) -> None:
    # GIVEN a replay on the laptop's token family; THEN the phone's family still works
    laptop, phone = alice.login("alice"), alice.login("alice")
    alice.client.post("/api/v1/auth/refresh", json={"refresh_token": laptop["refresh_token"]})
    alice.client.post("/api/v1/auth/refresh", json={"refresh_token": laptop["refresh_token"]})
    still = alice.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]}
    )
    assert still.status_code == 200


def test_expired_refresh_token_is_refused(alice: ApiWorld) -> None:
    # GIVEN a refresh token; WHEN 15 days pass (lifetime 14); THEN 401
    pair = alice.login("alice")
    alice.clock.advance(15 * 86400)
    response = alice.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert response.status_code == 401


def test_refresh_ignores_a_stale_authorization_header(alice: ApiWorld) -> None:
    # GIVEN a client that still sends its expired access token with the refresh call
    # GIVEN a client that still sends its expired access token with the refresh call; THEN refresh
    # works
    pair = alice.login("alice")
    headers = {"Authorization": "Bearer expired.garbage.token"}
    response = alice.client.post(
        "/api/v1/auth/refresh", headers=headers, json={"refresh_token": pair["refresh_token"]}
    )
    assert response.status_code == 200


def test_refresh_tokens_are_stored_only_as_hashes(alice: ApiWorld) -> None:
    # WHEN alice signs in; THEN only the SHA-256 of her refresh token is stored
    pair = alice.login("alice")
    with alice.services.system_db.read() as conn:
        stored = [row[0] for row in conn.execute("SELECT token_hash FROM refresh_tokens")]
    assert pair["refresh_token"] not in stored
    assert hashlib.sha256(pair["refresh_token"].encode()).hexdigest() in stored


def test_signing_key_is_stored_wrapped_and_stable(alice: ApiWorld) -> None:
    # GIVEN the key the running API signs with
    key = load_or_create_signing_key(alice.services.system_db, alice.services.master)
    # THEN system.db holds it only wrapped under the master key, with the rotation context
    wrapped = alice.services.system.get_secret(JWT_KEY_NAME)
    assert wrapped is not None and key not in wrapped
    assert (
        crypto.unwrap(alice.services.master.wrapping_key, wrapped, "secret:" + JWT_KEY_NAME) == key
    )
    # AND asking again returns the same key (tokens survive restarts)
    assert load_or_create_signing_key(alice.services.system_db, alice.services.master) == key


def test_password_change_revokes_every_token_and_needs_the_current_password(
    alice: ApiWorld,
) -> None:
    pair = alice.login("alice")
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    new = "an even longer new password"
    # WHEN the current password is wrong THEN nothing changes
    wrong = alice.client.post(
        "/api/v1/auth/password",
        headers=headers,
        json={"current_password": "x" * 20, "new_password": new},
    )
    assert wrong.status_code == 401 and _status(alice, pair["access_token"]) == 200
    # WHEN the new password is too short THEN a clear 422
    short = alice.client.post(
        "/api/v1/auth/password",
        headers=headers,
        json={"current_password": "a perfectly long password", "new_password": "short"},
    )
    assert short.status_code == 422
    assert short.json()["detail"] == "password must be at least 12 characters long"
    # WHEN it is changed properly
    done = alice.client.post(
        "/api/v1/auth/password",
        headers=headers,
        json={"current_password": "a perfectly long password", "new_password": new},
    )
    assert done.status_code == 204
    # THEN the old tokens are dead and only the new password signs in
    assert _status(alice, pair["access_token"]) == 401
    assert (
        alice.client.post(
            "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
        ).status_code
        == 401
    )
    assert _status(alice, alice.login("alice", new)["access_token"]) == 200


def test_disabled_user_tokens_stop_working(alice: ApiWorld) -> None:
    # GIVEN a token of alice; WHEN her account is disabled; THEN the token is refused
    token = alice.login("alice")["access_token"]
    with alice.services.system_db.write() as conn:
        conn.execute("UPDATE users SET disabled = 1 WHERE username = 'alice'")
    assert _status(alice, token) == 401


@pytest.mark.parametrize("header", ["Basic YWxpY2U6cHc=", "Bearer", "Bearer    ", "token abc"])
def test_malformed_authorization_header_is_401(alice: ApiWorld, header: str) -> None:
    # WHEN the Authorization header is not 'Bearer <credential>'; THEN 401
    assert alice.client.get(ME, headers={"Authorization": header}).status_code == 401


@pytest.mark.slow
def test_signing_key_survives_master_key_rotation(initialised: Settings, tmp_path: Path) -> None:
    # GIVEN a data dir whose API has created its JWT signing key
    services = open_services(initialised, None)
    key = load_or_create_signing_key(services.system_db, services.master)
    services.close()
    # WHEN the master key is rotated (which re-wraps every "secret:<name>")
    config = write_config(tmp_path / "c.toml", initialised)
    rotated = run_cli(
        "rotate-master-key", "--data-dir", str(initialised.data_dir), "--config", str(config)
    )
    assert rotated.returncode == 0, rotated.stderr
    # THEN the same key is found under the new master key: issued tokens stay valid
    services = open_services(initialised, None)
    try:
        assert load_or_create_signing_key(services.system_db, services.master) == key
    finally:
        services.close()
