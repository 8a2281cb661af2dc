"""Accounts over the API (appliance admins): list, create, reset, disable, delete."""

from tests.app.conftest import ApiWorld
from tests.conftest import ADMIN_PASSWORD


def test_admin_manages_accounts_with_the_same_rules_as_the_ui(world: ApiWorld) -> None:
    admin = world.bearer("admin", ADMIN_PASSWORD)
    client = world.client
    # WHEN the admin creates nina THEN she is listed, without any password hash
    made = client.post(
        "/api/v1/users",
        headers=admin,
        json={"username": "nina", "password": "a long enough password"},
    )
    assert made.status_code == 201, made.text
    listed = client.get("/api/v1/users", headers=admin).json()
    assert "nina" in [u["username"] for u in listed]
    assert all("password_hash" not in u for u in listed)
    nina = world.bearer("nina", "a long enough password")
    # WHEN her password is reset THEN her token stops working and the new password works
    reset = client.post(
        "/api/v1/users/nina/password", headers=admin, json={"password": "nina's new password"}
    )
    assert reset.status_code == 204, reset.text
    assert client.get("/api/v1/tenants", headers=nina).status_code == 401
    nina = world.bearer("nina", "nina's new password")
    # WHEN she is disabled THEN her token stops working and sign-in is refused
    disabled = client.patch("/api/v1/users/nina", headers=admin, json={"disabled": True})
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    assert client.get("/api/v1/tenants", headers=nina).status_code == 401
    login = client.post(
        "/api/v1/auth/login", json={"username": "nina", "password": "nina's new password"}
    )
    assert login.status_code == 401
    # WHEN she is deleted THEN she is gone
    assert client.delete("/api/v1/users/nina", headers=admin).status_code == 204
    assert client.delete("/api/v1/users/nina", headers=admin).status_code == 404
    actions = [e["action"] for e in world.audit()]
    assert {"user.create", "user.password_reset", "user.disable", "user.delete"} <= set(actions)


def test_admins_cannot_lock_themselves_out_and_others_cannot_manage_accounts(
    world: ApiWorld,
) -> None:
    admin = world.bearer("admin", ADMIN_PASSWORD)
    client = world.client
    for method, url, body in (
        ("POST", "/api/v1/users/admin/password", {"password": "a long enough password"}),
        ("PATCH", "/api/v1/users/admin", {"disabled": True}),
        ("DELETE", "/api/v1/users/admin", None),
    ):
        answer = client.request(method, url, headers=admin, json=body)
        assert answer.status_code == 409 and answer.json()["code"] == "own_account", url
    world.user("olga")
    world.tenant("shop", olga="owner")
    # AND a workspace's only owner is not deleted
    answer = client.delete("/api/v1/users/olga", headers=admin)
    assert answer.status_code == 409 and answer.json()["code"] == "last_owner"
    # AND a user who is no admin gets 403 on every account route
    olga = world.bearer("olga")
    assert client.get("/api/v1/users", headers=olga).status_code == 403
    assert client.delete("/api/v1/users/admin", headers=olga).status_code == 403
