"""The audit log: who did what, when, from where; readable by admins and tenant owners."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.app.conftest import ApiWorld
from tests.conftest import ADMIN_PASSWORD


@pytest.fixture
def busy(world: ApiWorld) -> ApiWorld:
    """A morning of activity across two tenants."""
    world.user("alice")
    world.user("bob")
    admin = world.bearer("admin", ADMIN_PASSWORD)
    client = world.client
    client.post("/api/v1/tenants", headers=admin, json={"name": "alpha", "owner": "alice"})
    client.post("/api/v1/tenants", headers=admin, json={"name": "beta", "owner": "bob"})
    alice = world.bearer("alice")
    client.post(
        "/api/v1/tenants/alpha/members", headers=alice, json={"username": "bob", "role": "viewer"}
    )
    key = world.api_key(alice, "alpha")
    client.delete(f"/api/v1/tenants/alpha/api-keys/{key['id']}", headers=alice)
    client.delete("/api/v1/tenants/alpha/members/bob", headers=alice)
    client.post("/api/v1/auth/login", json={"username": "alice", "password": "not her password"})
    client.post("/api/v1/auth/logout", headers=alice)
    return world


def _actions(entries: list[dict[str, object]]) -> list[object]:
    return [e["action"] for e in entries]


def test_every_kind_of_event_is_recorded_with_who_when_where(busy: ApiWorld) -> None:
    # GIVEN the activity above, read back as the admin
    entries = busy.client.get("/api/v1/audit", headers=busy.bearer("admin", ADMIN_PASSWORD)).json()[
        "entries"
    ]
    actions = set(_actions(entries))
    # THEN each kind of event is there
    assert {
        "login",
        "tenant.create",
        "member.set",
        "member.remove",
        "api_key.create",
        "api_key.revoke",
        "logout",
    } <= actions
    # AND each entry says who, when and from where
    now = datetime.now(UTC)
    for entry in (e for e in entries if e["actor"] != "init"):  # init ran before the API
        assert entry["actor"] and entry["client"] == "testclient"
        assert now - timedelta(minutes=5) < datetime.fromisoformat(entry["at"]) <= now
    failure = next(e for e in entries if e["action"] == "login" and e["outcome"] == "failure")
    assert failure["actor"] == "alice"
    revoke = next(e for e in entries if e["action"] == "api_key.revoke")
    assert revoke["actor"] == "alice" and revoke["target"].startswith("key_")


def test_tenant_audit_shows_only_that_tenant(busy: ApiWorld) -> None:
    # WHEN alice reads alpha's audit log; THEN every entry is alpha's, sign-ins are not there
    alpha = busy.services.system.find_tenant("alpha")
    entries = busy.client.get("/api/v1/tenants/alpha/audit", headers=busy.bearer("alice")).json()[
        "entries"
    ]
    assert entries and all(e["tenant_id"] == alpha.id for e in entries)
    assert {
        "tenant.create",
        "member.set",
        "member.remove",
        "api_key.create",
        "api_key.revoke",
    } <= set(_actions(entries))
    assert "login" not in _actions(entries)


def test_who_may_read_the_audit_logs(busy: ApiWorld) -> None:
    # GIVEN admin, owner alice and viewer bob; WHEN each reads the logs; THEN only admins and owners
    # may
    client = busy.client
    alice, bob = busy.bearer("alice"), busy.bearer("bob")
    admin = busy.bearer("admin", ADMIN_PASSWORD)
    # the global log: admins only
    assert client.get("/api/v1/audit", headers=admin).status_code == 200
    assert client.get("/api/v1/audit", headers=alice).status_code == 403
    # a tenant's log: its owners and the admins; a viewer is refused; outsiders see no tenant
    client.post(
        "/api/v1/tenants/alpha/members", headers=alice, json={"username": "bob", "role": "viewer"}
    )
    assert client.get("/api/v1/tenants/alpha/audit", headers=admin).status_code == 200
    assert client.get("/api/v1/tenants/alpha/audit", headers=bob).status_code == 403
    assert client.get("/api/v1/tenants/beta/audit", headers=alice).status_code == 404


def test_audit_pages_newest_first(busy: ApiWorld) -> None:
    # WHEN the log is read three entries at a time; THEN pages continue newest-first without overlap
    admin = busy.bearer("admin", ADMIN_PASSWORD)
    first = busy.client.get("/api/v1/audit?limit=3", headers=admin).json()
    second = busy.client.get(
        f"/api/v1/audit?limit=3&before={first['next_before']}", headers=admin
    ).json()
    ids = [e["id"] for e in first["entries"] + second["entries"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 6
    assert busy.client.get("/api/v1/audit?limit=0", headers=admin).status_code == 400


def test_tenant_deletion_stays_in_the_log(busy: ApiWorld) -> None:
    # WHEN alpha is deleted; THEN the deletion stays in the global log
    alpha = busy.services.system.find_tenant("alpha")
    busy.client.delete("/api/v1/tenants/alpha", headers=busy.bearer("alice"))
    entries = busy.client.get("/api/v1/audit", headers=busy.bearer("admin", ADMIN_PASSWORD)).json()[
        "entries"
    ]
    deleted = next(e for e in entries if e["action"] == "tenant.delete")
    assert (deleted["tenant_id"], deleted["target"], deleted["actor"]) == (
        alpha.id,
        "alpha",
        "alice",
    )
