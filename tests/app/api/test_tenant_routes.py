"""Tenant and membership management over HTTP."""

import pytest

from tests.app.conftest import TENANT_404, ApiWorld
from tests.conftest import ADMIN_PASSWORD


@pytest.fixture
def team(world: ApiWorld) -> ApiWorld:
    world.user("alice")
    world.user("bob")
    world.tenant("alpha", alice="owner")
    world.tenant("beta", bob="owner")
    return world


def test_admin_creates_a_tenant_with_a_named_owner(team: ApiWorld) -> None:
    admin = team.bearer("admin", ADMIN_PASSWORD)
    # WHEN the admin creates a tenant for alice
    created = team.client.post(
        "/api/v1/tenants", headers=admin, json={"name": "gamma", "owner": "alice"}
    )
    # THEN it exists with alice as its only owner, and its database file exists
    assert created.status_code == 201
    body = created.json()
    assert body["slug"] == "gamma"
    members = team.services.system.memberships(tenant_id=body["id"])
    assert [(m.username, m.role) for m in members] == [("alice", "owner")]
    assert team.services.data.tenant_db(body["id"]).exists()


def test_admin_without_owner_becomes_the_owner(team: ApiWorld) -> None:
    # WHEN the admin creates a tenant naming no owner; THEN the admin owns it
    admin = team.bearer("admin", ADMIN_PASSWORD)
    body = team.client.post("/api/v1/tenants", headers=admin, json={"name": "mine"}).json()
    assert (
        team.services.system.role_of(body["id"], team.services.system.find_user("admin").id)
        == "owner"
    )


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"name": "Bad Name"}, 422, "invalid_text"),
        ({"name": "alpha"}, 409, "conflict"),
        ({"name": "x", "owner": "nobody"}, 404, "not_found"),
    ],
)
def test_bad_tenant_requests_are_refused_clearly(
    team: ApiWorld, body: dict[str, str], status: int, code: str
) -> None:
    # WHEN a tenant request is invalid; THEN a clear error and no tenant is created
    response = team.client.post(
        "/api/v1/tenants", headers=team.bearer("admin", ADMIN_PASSWORD), json=body
    )
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert [t.slug for t in team.services.system.list_tenants()] == ["alpha", "beta"]


def test_only_admins_create_tenants_and_see_them_all(team: ApiWorld) -> None:
    # WHEN alice tries to create a tenant and lists tenants; THEN 403, and she sees only her own
    alice = team.bearer("alice")
    assert (
        team.client.post("/api/v1/tenants", headers=alice, json={"name": "sneaky"}).status_code
        == 403
    )
    # members see only their own tenants, with their role
    mine = team.client.get("/api/v1/tenants", headers=alice).json()
    assert [(t["slug"], t["role"]) for t in mine] == [("alpha", "owner")]
    every = team.client.get("/api/v1/tenants", headers=team.bearer("admin", ADMIN_PASSWORD)).json()
    assert [t["slug"] for t in every] == ["alpha", "beta"]


def test_show_tenant_returns_the_callers_role(team: ApiWorld) -> None:
    # WHEN alice asks about alpha; THEN she sees it with her role
    body = team.client.get("/api/v1/tenants/alpha", headers=team.bearer("alice")).json()
    assert (body["slug"], body["role"]) == ("alpha", "owner")


def test_owner_deletes_the_tenant_and_its_files(team: ApiWorld) -> None:
    # GIVEN alpha with its database on disk
    alpha = team.services.system.find_tenant("alpha")
    alice = team.bearer("alice")
    # WHEN its owner deletes it
    assert team.client.delete("/api/v1/tenants/alpha", headers=alice).status_code == 204
    # THEN it is gone: files, rows, and from then on it answers like any unknown tenant
    assert not team.services.data.tenant_dir(alpha.id).exists()
    assert team.client.get("/api/v1/tenants/alpha", headers=alice).json() == TENANT_404
    entry = team.audit()[0]
    assert (entry["action"], entry["actor"], entry["target"]) == ("tenant.delete", "alice", "alpha")


def test_owner_manages_members_and_roles(team: ApiWorld) -> None:
    alice = team.bearer("alice")
    # WHEN alice adds bob as viewer, then makes him editor
    added = team.client.post(
        "/api/v1/tenants/alpha/members", headers=alice, json={"username": "bob", "role": "viewer"}
    )
    changed = team.client.post(
        "/api/v1/tenants/alpha/members", headers=alice, json={"username": "bob", "role": "editor"}
    )
    # THEN the listing shows it, and the audit log has both steps with the previous role
    assert added.json()["role"] == "viewer" and changed.json()["role"] == "editor"
    listing = team.client.get("/api/v1/tenants/alpha/members", headers=alice).json()
    assert [(m["user"], m["role"]) for m in listing] == [("alice", "owner"), ("bob", "editor")]
    sets = [
        e["detail"] for e in team.audit() if e["action"] == "member.set" and e["target"] == "bob"
    ]
    assert '"previous": "viewer"' in sets[0] and '"previous": null' in sets[1]
    # WHEN bob is removed THEN he is gone
    assert team.client.delete("/api/v1/tenants/alpha/members/bob", headers=alice).status_code == 204
    assert team.client.get("/api/v1/tenants/alpha", headers=team.bearer("bob")).status_code == 404


def test_the_last_owner_cannot_leave_or_be_demoted(team: ApiWorld) -> None:
    # GIVEN alice, alpha's only owner; WHEN she tries to leave or step down; THEN 409 until another
    # owner exists
    alice = team.bearer("alice")
    demote = team.client.post(
        "/api/v1/tenants/alpha/members", headers=alice, json={"username": "alice", "role": "viewer"}
    )
    leave = team.client.delete("/api/v1/tenants/alpha/members/alice", headers=alice)
    assert demote.status_code == leave.status_code == 409
    assert demote.json()["code"] == "last_owner"
    # with a second owner, it works
    team.client.post(
        "/api/v1/tenants/alpha/members", headers=alice, json={"username": "bob", "role": "owner"}
    )
    assert (
        team.client.delete("/api/v1/tenants/alpha/members/alice", headers=alice).status_code == 204
    )


def test_bad_member_requests(team: ApiWorld) -> None:
    # WHEN a member request names a bad role, an unknown user or a non-member; THEN 400/404
    alice = team.bearer("alice")
    bad_role = team.client.post(
        "/api/v1/tenants/alpha/members", headers=alice, json={"username": "bob", "role": "god"}
    )
    nobody = team.client.post(
        "/api/v1/tenants/alpha/members",
        headers=alice,
        json={"username": "nobody", "role": "viewer"},
    )
    not_member = team.client.delete("/api/v1/tenants/alpha/members/bob", headers=alice)
    assert bad_role.status_code == 400
    assert nobody.status_code == 404 and not_member.status_code == 404
