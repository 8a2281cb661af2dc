"""Verifying sign-ins: password check, hash upgrade, audit."""

from app.auth.passwords import Passwords
from app.errors import Unauthorized
from storage.errors import NotFoundError
from storage.records import UserRecord
from storage.system_store import SystemStore


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"


def failure_reason(user: UserRecord | None, valid: bool) -> str:
    if user is None:
        return "unknown_user"
    return "disabled" if valid else "wrong_password"


class Accounts:
    """Authenticates users against system.db; the same path for API and UI sign-ins."""

    def __init__(self, system: SystemStore, passwords: Passwords) -> None:
        self.system = system
        self.passwords = passwords

    def authenticate(
        self, username: str, password: str, client: str, action: str = "login"
    ) -> UserRecord:
        """The user, if the password is right; InvalidCredentials otherwise (same message).

        Callers throttle first (app.auth.logins); `action` names the audit entry.
        """
        try:
            user: UserRecord | None = self.system.find_user(username)
        except NotFoundError:
            user = None
        valid = self.passwords.verify(user.password_hash if user else None, password)
        if user is None or not valid or user.disabled:
            self.system.audit(
                action,
                # an unknown "username" is often a password typed in the wrong field: not kept
                actor=user.username if user else None,
                client=client,
                outcome="failure",
                detail={"reason": failure_reason(user, valid)},
            )
            raise InvalidCredentials("wrong username or password")
        if self.passwords.needs_rehash(user.password_hash):
            # new argon2 parameters apply from the next sign-in; the session stays valid
            self.system.set_password_hash(
                user.id, self.passwords.rehash(password), bump_token_version=False
            )
        self.system.audit(action, actor=user.username, client=client)
        return user
