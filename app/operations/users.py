"""User accounts: the username rule, creation, password changes that sign out, and the
admin's reset, disable/enable and delete."""

import re

from app.auth.kit import AuthKit
from app.errors import AppError
from app.operations.actor import Actor
from app.operations.members import LastOwner, keep_an_owner
from storage.records import UserRecord
from storage.system_store import SystemStore

USERNAME = re.compile(r"^[\w.@+-]{1,64}$")
USERNAME_RULE = "a username has 1-64 letters, digits or . @ + - _"


class InvalidUsername(AppError):
    status_code = 422
    code = "invalid_username"


class OwnAccount(AppError):
    """An admin may not reset, disable or delete their own account from the admin tools:
    their own password changes with the current one, and an appliance keeps its admin."""

    status_code = 409
    code = "own_account"


def user_json(user: UserRecord) -> dict[str, object]:
    """An account as admins see it (API and UI): never the password hash."""
    return {
        "id": user.id,
        "username": user.username,
        "admin": user.is_admin,
        "disabled": user.disabled,
        "created_at": user.created_at,
    }


def check_username(username: str) -> None:
    if not USERNAME.fullmatch(username):
        raise InvalidUsername(USERNAME_RULE)


def create_user(
    system: SystemStore, auth: AuthKit, actor: Actor, username: str, password: str, admin: bool
) -> UserRecord:
    """A new account; the password policy and the username rule apply everywhere."""
    check_username(username)
    auth.passwords.check_policy(password)
    user = system.insert_user(username, auth.passwords.hash(password), admin)
    system.audit(
        "user.create",
        actor=actor.username,
        target=user.username,
        client=actor.client,
        detail={"admin": admin},
    )
    return user


def set_password(
    system: SystemStore, auth: AuthKit, actor: Actor, user: UserRecord, password: str
) -> None:
    """Set a new password (policy checked) and sign the user out everywhere, exactly as
    a sign-out of every session does: refresh tokens, access tokens, browser sessions."""
    auth.passwords.check_policy(password)
    system.set_password_hash(user.id, auth.passwords.hash(password), bump_token_version=True)
    _sign_out(auth, user)
    system.audit(
        "user.password_change", actor=actor.username, target=user.username, client=actor.client
    )


def _refuse_own(actor: Actor, user: UserRecord, what: str) -> None:
    if actor.username.casefold() == user.username.casefold():
        raise OwnAccount(f"you cannot {what} your own account here")


def _sign_out(auth: AuthKit, user: UserRecord) -> None:
    auth.refresh_tokens.revoke_user(user.id)
    auth.sessions.revoke_user(user.id)


def reset_password(
    system: SystemStore, auth: AuthKit, actor: Actor, user: UserRecord, password: str
) -> None:
    """An admin sets someone else's password: the policy applies and the user is signed
    out everywhere (their own change goes through POST /auth/password instead)."""
    _refuse_own(actor, user, "reset the password of")
    auth.passwords.check_policy(password)
    system.set_password_hash(user.id, auth.passwords.hash(password), bump_token_version=True)
    _sign_out(auth, user)
    system.audit(
        "user.password_reset", actor=actor.username, target=user.username, client=actor.client
    )


def set_disabled(
    system: SystemStore, auth: AuthKit, actor: Actor, user: UserRecord, disabled: bool
) -> None:
    """Disable (sign-in, tokens, API keys and sessions stop working) or enable again."""
    _refuse_own(actor, user, "disable" if disabled else "enable")
    system.set_disabled(user.id, disabled)
    if disabled:
        _sign_out(auth, user)
    system.audit(
        "user.disable" if disabled else "user.enable",
        actor=actor.username,
        target=user.username,
        client=actor.client,
    )


def delete_user(system: SystemStore, auth: AuthKit, actor: Actor, user: UserRecord) -> None:
    """Delete an account with its memberships, API keys and sessions. Refused while it is
    the only owner of a tenant (add another owner first)."""
    _refuse_own(actor, user, "delete")
    for membership in system.memberships(user_id=user.id):
        if membership.role != "owner":
            continue
        try:
            keep_an_owner(system, membership.tenant_id, user.id)
        except LastOwner as exc:
            raise LastOwner(
                f"{user.username} is the only owner of {membership.tenant_slug}; "
                "make someone else its owner first"
            ) from exc
    _sign_out(auth, user)
    system.delete_user(user.id)
    system.audit("user.delete", actor=actor.username, target=user.username, client=actor.client)
