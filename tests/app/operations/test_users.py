"""The admin's account operations: reset, disable/enable, delete, with their rules."""

from collections.abc import Iterator

import pytest

from app.auth.accounts import InvalidCredentials
from app.auth.kit import AuthKit, build_auth_kit
from app.operations import Actor, users
from app.operations.members import LastOwner
from app.operations.users import OwnAccount
from app.services import Services
from storage.errors import NotFoundError
from tests.conftest import ADMIN_PASSWORD

PASSWORD = "a perfectly long password"
ADMIN = Actor("admin", "192.0.2.1")


@pytest.fixture
def kit(services: Services) -> Iterator[AuthKit]:
    yield build_auth_kit(services)


def _user(services: Services, kit: AuthKit, name: str) -> None:
    services.system.insert_user(name, kit.passwords.hash(PASSWORD), False)


def test_a_reset_password_works_and_signs_the_user_out_everywhere(
    services: Services, kit: AuthKit
) -> None:
    # GIVEN vera signed in with a browser session and a refresh token
    _user(services, kit, "vera")
    vera = services.system.find_user("vera")
    session, _ = kit.sessions.create(vera.id, "192.0.2.9")
    kit.logins.login("vera", PASSWORD, "192.0.2.9")
    # WHEN the admin resets her password
    users.reset_password(services.system, kit, ADMIN, vera, "the brand new password")
    # THEN her session ended, the old password fails and the new one works
    assert kit.sessions.validate(session) is None
    with pytest.raises(InvalidCredentials):
        kit.logins.login("vera", PASSWORD, "192.0.2.9")
    assert kit.logins.login("vera", "the brand new password", "192.0.2.9").access_token
    # AND the audit log says who reset whose password
    entry = next(e for e in services.system.audit_entries() if e.action == "user.password_reset")
    assert (entry.actor, entry.target) == ("admin", "vera")


def test_a_reset_applies_the_password_policy(services: Services, kit: AuthKit) -> None:
    _user(services, kit, "vera")
    with pytest.raises(Exception, match="at least 12"):
        users.reset_password(
            services.system, kit, ADMIN, services.system.find_user("vera"), "short"
        )


def test_a_disabled_user_cannot_sign_in_until_enabled_again(
    services: Services, kit: AuthKit
) -> None:
    # GIVEN eddie with a browser session
    _user(services, kit, "eddie")
    eddie = services.system.find_user("eddie")
    session, _ = kit.sessions.create(eddie.id, "192.0.2.9")
    # WHEN the admin disables him THEN his session ends and sign-in is refused
    users.set_disabled(services.system, kit, ADMIN, eddie, True)
    assert kit.sessions.validate(session) is None
    assert services.system.find_user("eddie").disabled
    with pytest.raises(InvalidCredentials):
        kit.logins.login("eddie", PASSWORD, "192.0.2.9")
    # WHEN he is enabled again THEN he signs in with his old password
    users.set_disabled(services.system, kit, ADMIN, eddie, False)
    assert kit.logins.login("eddie", PASSWORD, "192.0.2.9").access_token
    actions = [e.action for e in services.system.audit_entries()]
    assert "user.disable" in actions and "user.enable" in actions


def test_an_admin_cannot_reset_disable_or_delete_their_own_account(
    services: Services, kit: AuthKit
) -> None:
    admin = services.system.find_user("admin")
    with pytest.raises(OwnAccount):
        users.reset_password(services.system, kit, ADMIN, admin, "the brand new password")
    with pytest.raises(OwnAccount):
        users.set_disabled(services.system, kit, ADMIN, admin, True)
    with pytest.raises(OwnAccount):
        users.delete_user(services.system, kit, ADMIN, admin)
    assert kit.logins.login("admin", ADMIN_PASSWORD, "192.0.2.1").access_token


def test_deleting_a_user_removes_memberships_but_not_a_workspace_s_only_owner(
    services: Services, kit: AuthKit
) -> None:
    # GIVEN olga, the only owner of "shop", and vera, a viewer there
    _user(services, kit, "olga")
    _user(services, kit, "vera")
    shop = services.tenants.create("shop")
    olga, vera = services.system.find_user("olga"), services.system.find_user("vera")
    services.system.set_membership(shop.id, olga.id, "owner")
    services.system.set_membership(shop.id, vera.id, "viewer")
    # WHEN the admin deletes olga THEN it is refused, naming the workspace
    with pytest.raises(LastOwner, match="only owner of shop"):
        users.delete_user(services.system, kit, ADMIN, olga)
    # WHEN vera is deleted THEN her account and membership are gone
    users.delete_user(services.system, kit, ADMIN, vera)
    with pytest.raises(NotFoundError):
        services.system.find_user("vera")
    assert [m.username for m in services.system.memberships(tenant_id=shop.id)] == ["olga"]
