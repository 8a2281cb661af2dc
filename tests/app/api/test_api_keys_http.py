"""API keys over HTTP: shown once, hashed, scoped to one tenant and role, revocable."""

import hashlib

import pytest
from litestar import get, post
from litestar.status_codes import HTTP_200_OK

from app.api.deps import TenantAccessDep
from tests.app.conftest import TENANT_404, ApiWorld
from tests.conftest import ADMIN_PASSWORD


@get("/data", sync_to_thread=False)
def read_data(tenant_access: TenantAccessDep) -> dict[str, str | None]:
    return {"tenant": tenant_access.tenant.slug, "role": tenant_access.role}


@post("/data", status_code=HTTP_200_OK, sync_to_thread=False)
def write_data(tenant_access: TenantAccessDep) -> dict[str, str]:
    return {"written": tenant_access.tenant.slug}


@pytest.fixture
def keyed(world_factory) -> ApiWorld:  # type: ignore[no-untyped-def]
    world: ApiWorld = world_factory(extra_tenant_handlers=[read_data, write_data])
    world.user("alice")
    world.user("vic")
    world.tenant("alpha", alice="owner", vic="viewer")
    world.tenant("beta", alice="owner")
    return world


def _with(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_key_is_shown_once_and_stored_only_as_a_hash(keyed: ApiWorld) -> None:
    # WHEN alice creates a key
    created = keyed.api_key(keyed.bearer("alice"), "alpha", role="editor", expires="90d")
    # THEN the response has the secret; the listing and the database do not
    assert created["key"].startswith("aak_") and created["role"] == "editor"
    assert created["expires_at"] is not None
    listing = keyed.client.get(
        "/api/v1/tenants/alpha/api-keys", headers=keyed.bearer("alice")
    ).json()
    assert [k["id"] for k in listing] == [created["id"]]
    assert "key" not in listing[0] and created["key"] not in str(listing)
    with keyed.services.system_db.read() as conn:
        row = conn.execute(
            "SELECT key_hash FROM api_keys WHERE id = ?", (created["id"],)
        ).fetchone()
    assert row[0] == hashlib.sha256(created["key"].encode()).hexdigest()


def test_key_works_in_its_tenant_with_its_role(keyed: ApiWorld) -> None:
    # GIVEN a viewer key made by an owner
    key = keyed.api_key(keyed.bearer("alice"), "alpha", role="viewer")["key"]
    # THEN it reads, but cannot write
    assert keyed.client.get("/api/v1/tenants/alpha/data", headers=_with(key)).json() == {
        "tenant": "alpha",
        "role": "viewer",
    }
    assert keyed.client.post("/api/v1/tenants/alpha/data", headers=_with(key)).status_code == 403
    editor = keyed.api_key(keyed.bearer("alice"), "alpha", role="editor")["key"]
    assert keyed.client.post("/api/v1/tenants/alpha/data", headers=_with(editor)).status_code == 200


def test_key_in_another_tenant_is_404(keyed: ApiWorld) -> None:
    # GIVEN an owner key for alpha, whose user is ALSO an owner of beta
    key = keyed.api_key(keyed.bearer("alice"), "alpha", role="owner")["key"]
    # WHEN it is used on beta THEN beta does not exist for it
    response = keyed.client.get("/api/v1/tenants/beta/data", headers=_with(key))
    assert response.status_code == 404 and response.json() == TENANT_404


def test_revoked_key_is_401(keyed: ApiWorld) -> None:
    owner = keyed.bearer("alice")
    created = keyed.api_key(owner, "alpha")
    assert (
        keyed.client.get("/api/v1/tenants/alpha/data", headers=_with(created["key"])).status_code
        == 200
    )
    # WHEN the key is revoked
    gone = keyed.client.delete(f"/api/v1/tenants/alpha/api-keys/{created['id']}", headers=owner)
    assert gone.status_code == 204
    # THEN every use is 401
    response = keyed.client.get("/api/v1/tenants/alpha/data", headers=_with(created["key"]))
    assert response.status_code == 401
    assert keyed.client.get("/api/v1/tenants", headers=_with(created["key"])).status_code == 401


def test_expired_key_is_401(keyed: ApiWorld) -> None:
    # GIVEN a key valid for one day; WHEN a day has passed; THEN it is refused
    key = keyed.api_key(keyed.bearer("alice"), "alpha", expires="1d")["key"]
    keyed.clock.advance(86400 + 1)
    assert keyed.client.get("/api/v1/tenants/alpha/data", headers=_with(key)).status_code == 401


def test_unknown_key_is_401(keyed: ApiWorld) -> None:
    # GIVEN a well-formed key that was never issued; THEN it is refused
    assert (
        keyed.client.get("/api/v1/tenants/alpha/data", headers=_with("aak_" + "x" * 43)).status_code
        == 401
    )


def test_role_cannot_exceed_the_creators(keyed: ApiWorld) -> None:
    # GIVEN vic, a viewer of alpha
    viewer = keyed.bearer("vic")
    # WHEN he asks for an editor key THEN 403; a viewer key is fine
    refused = keyed.client.post(
        "/api/v1/tenants/alpha/api-keys", headers=viewer, json={"name": "k", "role": "editor"}
    )
    assert refused.status_code == 403
    assert keyed.api_key(viewer, "alpha", role="viewer")["role"] == "viewer"


def test_key_loses_power_when_its_user_is_demoted_or_removed(keyed: ApiWorld) -> None:
    owner = keyed.bearer("alice")
    # GIVEN vic promoted to editor, holding an editor key
    keyed.client.post(
        "/api/v1/tenants/alpha/members", headers=owner, json={"username": "vic", "role": "editor"}
    )
    key = keyed.api_key(keyed.bearer("vic"), "alpha", role="editor")["key"]
    # WHEN vic is demoted to viewer THEN his key can no longer write
    keyed.client.post(
        "/api/v1/tenants/alpha/members", headers=owner, json={"username": "vic", "role": "viewer"}
    )
    assert keyed.client.post("/api/v1/tenants/alpha/data", headers=_with(key)).status_code == 403
    # WHEN he is removed THEN the key is revoked
    assert (
        keyed.client.delete("/api/v1/tenants/alpha/members/vic", headers=owner).status_code == 204
    )
    assert keyed.client.get("/api/v1/tenants/alpha/data", headers=_with(key)).status_code == 401


def test_keys_cannot_manage_keys_members_or_the_tenant(keyed: ApiWorld) -> None:
    # GIVEN an owner-role key; WHEN it tries account management; THEN each attempt is 403
    key = keyed.api_key(keyed.bearer("alice"), "alpha", role="owner")["key"]
    client = keyed.client
    assert (
        client.post(
            "/api/v1/tenants/alpha/api-keys", headers=_with(key), json={"name": "x"}
        ).status_code
        == 403
    )
    assert client.get("/api/v1/tenants/alpha/members", headers=_with(key)).status_code == 403
    assert client.delete("/api/v1/tenants/alpha", headers=_with(key)).status_code == 403
    assert client.post("/api/v1/auth/logout", headers=_with(key)).status_code == 403
    assert client.get("/api/v1/audit", headers=_with(key)).status_code == 403


def test_listing_shows_own_keys_owners_see_all(keyed: ApiWorld) -> None:
    # GIVEN a key each for vic (viewer) and alice (owner); WHEN both list keys; THEN vic sees his,
    # alice all
    mine = keyed.api_key(keyed.bearer("vic"), "alpha")
    theirs = keyed.api_key(keyed.bearer("alice"), "alpha")
    vic_sees = keyed.client.get(
        "/api/v1/tenants/alpha/api-keys", headers=keyed.bearer("vic")
    ).json()
    alice_sees = keyed.client.get(
        "/api/v1/tenants/alpha/api-keys", headers=keyed.bearer("alice")
    ).json()
    assert [k["id"] for k in vic_sees] == [mine["id"]]
    assert {k["id"] for k in alice_sees} == {mine["id"], theirs["id"]}
    # AND vic cannot revoke alice's key (it does not exist for him)
    assert (
        keyed.client.delete(
            f"/api/v1/tenants/alpha/api-keys/{theirs['id']}", headers=keyed.bearer("vic")
        ).status_code
        == 404
    )


def test_last_used_is_recorded_at_most_once_a_minute(keyed: ApiWorld) -> None:
    # GIVEN a new key; WHEN it is used twice in a row; THEN last_used_at is set once, not rewritten
    created = keyed.api_key(keyed.bearer("alice"), "alpha")
    assert created["last_used_at"] is None
    keyed.client.get("/api/v1/tenants/alpha/data", headers=_with(created["key"]))
    first = keyed.kit.api_keys.get(created["id"]).last_used_at
    keyed.client.get("/api/v1/tenants/alpha/data", headers=_with(created["key"]))
    assert first is not None
    assert keyed.kit.api_keys.get(created["id"]).last_used_at == first


def test_bad_expiry_is_a_clear_422(keyed: ApiWorld) -> None:
    # WHEN a key is asked for with an unreadable expiry; THEN 422 explaining the format
    response = keyed.client.post(
        "/api/v1/tenants/alpha/api-keys",
        headers=keyed.bearer("alice"),
        json={"name": "k", "expires": "soon"},
    )
    assert response.status_code == 422
    assert "e.g. 90d" in response.json()["detail"]


def test_admin_member_may_mint_any_role(keyed: ApiWorld) -> None:
    # GIVEN the admin as a mere viewer member; WHEN an owner key is asked for; THEN admins may
    admin = keyed.bearer("admin", ADMIN_PASSWORD)
    alpha = keyed.services.system.find_tenant("alpha")
    keyed.services.system.set_membership(
        alpha.id, keyed.services.system.find_user("admin").id, "viewer"
    )
    assert keyed.api_key(admin, "alpha", role="owner")["role"] == "owner"
