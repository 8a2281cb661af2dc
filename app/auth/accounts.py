"""Verifying sign-ins: password check, hash upgrade, audit."""

from app.auth.passwords import Passwords
from app.errors import Unauthorized
from storage.errors import NotFoundError
from storage.records import UserRecord
from storage.system_store import SystemStore


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"


class Accounts:
    """Authenticates users against system.db; the same path for API and UI sign-ins."""

    def __init__(self, system: SystemStore, passwords: Passwords) -> None:
        self.system = system
        self.passwords = passwords

    def authenticate(self, username: str, password: str, client: str) -> UserRecord:
        """The user, if the password is right; InvalidCredentials otherwise (same message)."""
        try:
            user: UserRecord | None = self.system.find_user(username)
        except NotFoundError:
            user = None
        valid = self.passwords.verify(user.password_hash if user else None, password)
        if user is None or not valid or user.disabled:
            self.system.audit(
                "login",
                actor=username[:64],
                client=client,
                outcome="failure",
                detail={"reason": "invalid_credentials"},
            )
            raise InvalidCredentials("wrong username or password")
        if self.passwords.needs_rehash(user.password_hash):
            self.system.set_password_hash(
                user.id, self.passwords.hash(password), bump_token_version=False
            )
        self.system.audit("login", actor=user.username, client=client)
        return user
