"""User accounts: the username rule, creation, and password changes that sign out."""

import re

from app.auth.kit import AuthKit
from app.errors import AppError
from app.operations.actor import Actor
from storage.records import UserRecord
from storage.system_store import SystemStore

USERNAME = re.compile(r"^[\w.@+-]{1,64}$")
USERNAME_RULE = "a username has 1-64 letters, digits or . @ + - _"


class InvalidUsername(AppError):
    status_code = 422
    code = "invalid_username"


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
    auth.refresh_tokens.revoke_user(user.id)
    auth.sessions.revoke_user(user.id)
    system.audit(
        "user.password_change", actor=actor.username, target=user.username, client=actor.client
    )
