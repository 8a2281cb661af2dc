"""Tenant isolation: every route under /api/v1/tenants/{tenant}, taken from the live route
table, refuses non-members with the unknown-tenant 404 and enforces its declared role."""

from collections.abc import Callable
from typing import Any

import pytest
from litestar import get, post
from litestar.params import FromPath
from litestar.status_codes import HTTP_200_OK

from app.api.deps import TenantAccessDep, TenantDbDep
from app.api.route_audit import tenant_routes, unguarded_tenant_routes
from app.api.tenant_scope import required_role
from app.auth.principal import role_at_least
from tests.app.conftest import (
    TENANT_404,
    ApiWorld,
    fill_path,
    isolation_violations,
    json_or_none,
    probe,
)
from tests.conftest import ADMIN_PASSWORD

TENANT_ROOT = "/api/v1/tenants/{tenant:str}"


@get("/whoami", sync_to_thread=True)
def whoami(tenant_access: TenantAccessDep, tenant_db: TenantDbDep) -> dict[str, Any]:
    """A data route as later issues will add them: it sees only the injected database."""
    return {
        "tenant": tenant_access.tenant.slug,
        "role": tenant_access.role,
        "db": tenant_db.path.parent.name,
    }


@post("/edit", status_code=HTTP_200_OK, sync_to_thread=False)
def edit(tenant_access: TenantAccessDep) -> dict[str, str]:
    return {"tenant": tenant_access.tenant.slug}


@pytest.fixture
def two_teams(world_factory: Callable[..., ApiWorld]) -> ApiWorld:
    world = world_factory(extra_tenant_handlers=[whoami, edit])
    world.user("alice")
    world.user("bob")
    world.tenant("alpha", alice="owner")
    world.tenant("beta", bob="owner")
    return world


def test_route_table_has_the_tenant_routes_of_the_contract(two_teams: ApiWorld) -> None:
    # GIVEN the app's route table
    routes = {(method, path) for path, method, _ in tenant_routes(two_teams.app)}
    # THEN the tenant routes of the public contract are all there, and all guarded
    expected = {
        ("DELETE", TENANT_ROOT),
        ("GET", TENANT_ROOT + "/members"),
        ("POST", TENANT_ROOT + "/members"),
        ("DELETE", TENANT_ROOT + "/members/{user:str}"),
        ("GET", TENANT_ROOT + "/api-keys"),
        ("POST", TENANT_ROOT + "/api-keys"),
        ("DELETE", TENANT_ROOT + "/api-keys/{key_id:str}"),
        ("GET", TENANT_ROOT + "/audit"),
    }
    assert expected <= routes
    assert unguarded_tenant_routes(two_teams.app) == []


def test_member_of_one_tenant_gets_404_on_every_route_of_another(two_teams: ApiWorld) -> None:
    # GIVEN alice, owner of alpha only, signed in with a token and holding an owner API key
    token = two_teams.bearer("alice")
    key = two_teams.api_key(token, "alpha", role="owner")["key"]
    beta_id = two_teams.services.system.find_tenant("beta").id
    # WHEN she calls every method of every tenant route for beta, by slug and by id
    for headers in (token, {"Authorization": f"Bearer {key}"}):
        for ref in ("beta", beta_id):
            violations = isolation_violations(two_teams.client, two_teams.app, headers, ref)
            # THEN each answer is exactly the 404 of a tenant that does not exist
            assert violations == []
    # AND beta is untouched (its DELETE route was among those called)
    assert two_teams.services.system.find_tenant("beta").slug == "beta"
    members = two_teams.services.system.memberships(tenant_id=beta_id)
    assert [(m.username, m.role) for m in members] == [("bob", "owner")]


def test_an_admin_without_membership_manages_but_does_not_read_tenant_data(
    two_teams: ApiWorld,
) -> None:
    # GIVEN the appliance admin, who is not a member of beta
    admin = two_teams.bearer("admin", ADMIN_PASSWORD)
    # WHEN the admin lists beta's members and audit log, and calls a data route
    members = two_teams.client.get("/api/v1/tenants/beta/members", headers=admin)
    audit = two_teams.client.get("/api/v1/tenants/beta/audit", headers=admin)
    data = two_teams.client.get("/api/v1/tenants/beta/whoami", headers=admin)
    # THEN management works, tenant data is as invisible as for any non-member
    assert members.status_code == 200 and audit.status_code == 200
    assert data.status_code == 404 and data.json() == TENANT_404


def test_injected_tenant_database_is_the_guarded_tenants_file(two_teams: ApiWorld) -> None:
    # GIVEN alice in alpha
    headers = two_teams.bearer("alice")
    alpha = two_teams.services.system.find_tenant("alpha")
    # WHEN a data route asks for its tenant database
    body = two_teams.client.get("/api/v1/tenants/alpha/whoami", headers=headers).json()
    # THEN it got alpha's file, chosen from the guard's result
    assert body == {"tenant": "alpha", "role": "owner", "db": alpha.id}


def test_each_role_gets_exactly_what_each_route_declares(two_teams: ApiWorld) -> None:
    # GIVEN a viewer, an editor and an owner of gamma, plus the admin (no membership)
    for name in ("vera", "ed", "olga"):
        two_teams.user(name)
    two_teams.tenant("gamma", vera="viewer", ed="editor", olga="owner")
    who = {name: two_teams.bearer(name) for name in ("vera", "ed", "olga")}
    roles = {"vera": "viewer", "ed": "editor", "olga": "owner"}
    who["admin"] = two_teams.bearer("admin", ADMIN_PASSWORD)
    # deleting the tenant succeeds for some callers, so that route gets fresh tenants, last
    routes = sorted(
        tenant_routes(two_teams.app), key=lambda r: r[0] == TENANT_ROOT and r[1] == "DELETE"
    )
    failures = []
    fresh = 0
    for path, method, handler in routes:
        if handler.opt.get("hook"):
            continue  # no user roles: an inbound hook authenticates itself (test_hooks_*.py)
        needed = required_role(handler, method)
        for name, headers in who.items():
            target = "gamma"
            if path == TENANT_ROOT and method == "DELETE":
                fresh += 1
                target = two_teams.tenant(
                    f"fresh{fresh}", vera="viewer", ed="editor", olga="owner"
                ).slug
            # WHEN the caller calls the route
            response = probe(two_teams.client, method, fill_path(path, target), headers)
            # THEN members below the route's role get 403, others pass the guard
            if name == "admin":
                allowed = bool(handler.opt.get("admin_ok"))
                refused = (404, TENANT_404)
            else:
                allowed = role_at_least(roles[name], needed)
                refused = (403, None)
            passed = response.status_code not in (401, 403) and json_or_none(response) != TENANT_404
            if allowed != passed or (not allowed and response.status_code != refused[0]):
                failures.append(
                    f"{name} {method} {path}: {response.status_code} {response.text[:100]}"
                )
    assert failures == []


def test_viewer_and_editor_limits_hold_for_specific_routes(two_teams: ApiWorld) -> None:
    # GIVEN a viewer and an editor of alpha
    two_teams.user("vic")
    two_teams.user("eve")
    alpha = two_teams.services.system.find_tenant("alpha")
    two_teams.services.system.set_membership(
        alpha.id, two_teams.services.system.find_user("vic").id, "viewer"
    )
    two_teams.services.system.set_membership(
        alpha.id, two_teams.services.system.find_user("eve").id, "editor"
    )
    viewer, editor = two_teams.bearer("vic"), two_teams.bearer("eve")
    client = two_teams.client
    # THEN the viewer reads but cannot change; the editor changes data but cannot manage
    assert client.get("/api/v1/tenants/alpha/whoami", headers=viewer).status_code == 200
    assert client.post("/api/v1/tenants/alpha/edit", headers=viewer).status_code == 403
    assert client.post("/api/v1/tenants/alpha/edit", headers=editor).status_code == 200
    add = {"username": "vic", "role": "owner"}
    assert client.post("/api/v1/tenants/alpha/members", headers=editor, json=add).status_code == 403
    assert client.delete("/api/v1/tenants/alpha", headers=editor).status_code == 403
    assert client.get("/api/v1/tenants/alpha/audit", headers=editor).status_code == 403
    assert (
        two_teams.services.system.role_of(alpha.id, two_teams.services.system.find_user("vic").id)
        == "viewer"
    )


def test_unauthenticated_callers_get_401_on_every_tenant_route(two_teams: ApiWorld) -> None:
    # WHEN no credentials are sent; THEN every tenant route answers 401
    for path, method, _ in tenant_routes(two_teams.app):
        response = probe(two_teams.client, method, fill_path(path, "alpha"), {})
        assert response.status_code == 401, f"{method} {path}"


def test_a_tenant_route_added_without_the_guard_is_caught(two_teams: ApiWorld) -> None:
    # GIVEN a route under /tenants/{tenant} registered outside the tenant router
    @get("/api/v1/tenants/{tenant:str}/leak", sync_to_thread=True)
    def leak(tenant: FromPath[str]) -> dict[str, str]:
        record = two_teams.services.system.find_tenant(tenant)
        return {"leaked": record.name}

    two_teams.app.register(leak)
    alice = two_teams.bearer("alice")
    # WHEN the same checks as the acceptance test run
    static = unguarded_tenant_routes(two_teams.app)
    probed = isolation_violations(two_teams.client, two_teams.app, alice, "beta")
    # THEN both report the new route, and only it
    assert static == [
        "GET /api/v1/tenants/{tenant:str}/leak",
        "OPTIONS /api/v1/tenants/{tenant:str}/leak",
    ]
    assert [v.split(": ")[0] for v in probed] == static
