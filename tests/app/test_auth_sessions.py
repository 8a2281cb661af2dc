"""Browser sessions on the API: cookie auth, CSRF on state changes, sign-out everywhere."""

from collections.abc import Callable

import pytest

from app.auth.sessions import COOKIE_NAME
from app.ui_backend import ApplianceUiBackend
from tests.app.conftest import PASSWORD, ApiWorld


def _cookie(value: str, csrf: str | None = None) -> dict[str, str]:
    # a Cookie header per request (httpx deprecates per-request cookies=)
    headers = {"Cookie": f"{COOKIE_NAME}={value}"}
    if csrf is not None:
        headers["X-CSRF-Token"] = csrf
    return headers


@pytest.fixture
def signed_in(world: ApiWorld) -> tuple[ApiWorld, str, str]:
    """alice with a browser session: (world, cookie value, csrf token)."""
    world.user("alice")
    world.user("bob")
    world.tenant("alpha", alice="owner")
    user = world.services.system.find_user("alice")
    cookie, session = world.kit.sessions.create(user.id, "192.0.2.1")
    return world, cookie, session.csrf_token


def test_session_cookie_authenticates_reads(signed_in: tuple[ApiWorld, str, str]) -> None:
    # GIVEN alice's session cookie; WHEN she reads members; THEN no CSRF token is needed for a read
    world, cookie, _ = signed_in
    response = world.client.get("/api/v1/tenants/alpha/members", headers=_cookie(cookie))
    assert response.status_code == 200


def test_cookie_state_change_without_csrf_token_is_403(
    signed_in: tuple[ApiWorld, str, str],
) -> None:
    # GIVEN a valid session cookie (as a cross-site form post would carry, were it allowed)
    world, cookie, csrf = signed_in
    add_bob = {"username": "bob", "role": "viewer"}
    # WHEN a state change comes without, or with a wrong, X-CSRF-Token
    missing = world.client.post(
        "/api/v1/tenants/alpha/members", headers=_cookie(cookie), json=add_bob
    )
    wrong = world.client.post(
        "/api/v1/tenants/alpha/members",
        headers=_cookie(cookie, "not-" + csrf),
        json=add_bob,
    )
    # THEN both are refused and nothing changed
    assert missing.status_code == wrong.status_code == 403
    assert missing.json()["code"] == "csrf_failed"
    assert [
        m.username
        for m in world.services.system.memberships(
            tenant_id=world.services.system.find_tenant("alpha").id
        )
    ] == ["alice"]
    # WHEN the session's token is sent THEN it goes through
    ok = world.client.post(
        "/api/v1/tenants/alpha/members", headers=_cookie(cookie, csrf), json=add_bob
    )
    assert ok.status_code == 200


def test_unknown_or_revoked_session_cookie_is_401(signed_in: tuple[ApiWorld, str, str]) -> None:
    # WHEN a forged, then a revoked, cookie is presented; THEN both are 401
    world, cookie, _ = signed_in
    assert world.client.get("/api/v1/tenants", headers=_cookie("forged")).status_code == 401
    world.kit.sessions.revoke(cookie)
    assert world.client.get("/api/v1/tenants", headers=_cookie(cookie)).status_code == 401


def test_api_logout_ends_browser_sessions_too(signed_in: tuple[ApiWorld, str, str]) -> None:
    # GIVEN alice signed in in a browser and with a token
    world, cookie, _ = signed_in
    token = world.bearer("alice")
    # WHEN she logs out through the API
    assert world.client.post("/api/v1/auth/logout", headers=token).status_code == 204
    # THEN the browser session is gone as well
    assert world.kit.sessions.validate(cookie) is None


def test_cookie_logout_needs_csrf_and_ends_everything(signed_in: tuple[ApiWorld, str, str]) -> None:
    # WHEN a cookie logout comes without, then with, the CSRF token; THEN 403, then 204 and the
    # session ends
    world, cookie, csrf = signed_in
    assert world.client.post("/api/v1/auth/logout", headers=_cookie(cookie)).status_code == 403
    done = world.client.post("/api/v1/auth/logout", headers=_cookie(cookie, csrf))
    assert done.status_code == 204
    assert world.kit.sessions.validate(cookie) is None


def test_ui_backend_exposes_csrf_and_signs_out_everywhere(
    signed_in: tuple[ApiWorld, str, str],
) -> None:
    # GIVEN the UI backend and two browser sessions plus an API token of alice
    world, cookie, csrf = signed_in
    backend = ApplianceUiBackend(world.runtime)
    other, _ = world.kit.sessions.create(world.services.system.find_user("alice").id, None)
    pair = world.login("alice")
    # THEN the UI can read the CSRF token of its session
    assert backend.csrf_token(cookie) == csrf
    assert backend.csrf_token("nope") is None
    # WHEN the user signs out everywhere from one browser
    assert backend.sign_out_everywhere(cookie, "192.0.2.1") is True
    # THEN every session and token is gone
    assert world.kit.sessions.validate(other) is None
    assert (
        world.client.get(
            "/api/v1/tenants", headers={"Authorization": f"Bearer {pair['access_token']}"}
        ).status_code
        == 401
    )


def test_ui_password_change_ends_all_sessions(signed_in: tuple[ApiWorld, str, str]) -> None:
    # WHEN alice changes her password in the UI; THEN her session ends and the new password works
    world, cookie, _ = signed_in
    backend = ApplianceUiBackend(world.runtime)
    assert backend.change_password(cookie, PASSWORD, "the new long password", "192.0.2.1") is True
    assert world.kit.sessions.validate(cookie) is None
    assert backend.sign_in("alice", "the new long password", "192.0.2.1")


def test_sessions_end_after_the_idle_timeout(world_factory: Callable[..., ApiWorld]) -> None:
    # GIVEN an idle timeout of zero minutes
    world = world_factory(security={"session_idle_minutes": 0})
    user = world.user("alice")
    cookie, _ = world.kit.sessions.create(user.id, None)
    # THEN the session is already over
    assert world.client.get("/api/v1/tenants", headers=_cookie(cookie)).status_code == 401


def test_bearer_wins_over_a_cookie(signed_in: tuple[ApiWorld, str, str]) -> None:
    # a script with a token is not subject to the browser's CSRF rule
    # GIVEN both a cookie and a token; WHEN a state change has no CSRF header; THEN the token is
    # used
    world, cookie, _ = signed_in
    token = world.bearer("alice")
    response = world.client.post(
        "/api/v1/tenants/alpha/members",
        headers={**_cookie(cookie), **token},
        json={"username": "bob", "role": "viewer"},
    )
    assert response.status_code == 200
