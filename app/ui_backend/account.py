"""One's own password, the admin's tools for other accounts, and picking users by name,
through app.operations (the same rules and audit entries as the API and the CLI)."""

from app.auth.accounts import InvalidCredentials
from app.auth.kit import AuthKit
from app.errors import AppError, NotFound
from app.operations import Actor, users
from app.services import Services
from app.ui_backend.gate import SessionGate
from storage.errors import NotFoundError
from storage.records import UserRecord


class WrongCurrentPassword(AppError):
    status_code = 422
    code = "wrong_password"


class AccountMethods:
    _gate: SessionGate
    _services: Services
    _kit: AuthKit

    def password_rule(self) -> str:
        return f"at least {self._services.settings.security.min_password_length} characters"

    def change_own_password(self, token: str | None, current: str, new: str) -> None:
        """As POST /auth/password: the current password is checked (throttled like a
        sign-in), the new one must meet the policy, and every session ends afterwards."""
        user = self._gate.user(token)
        try:
            self._kit.logins.change_password(user, current, new, self._gate.client(token))
        except InvalidCredentials as exc:
            raise WrongCurrentPassword("your current password is not right") from exc

    def _target(self, token: str | None, username: str) -> tuple[Actor, UserRecord]:
        admin = self._gate.admin(token)
        try:
            user = self._services.system.find_user(username)
        except NotFoundError as exc:
            raise NotFound(f"there is no user named {username}") from exc
        return Actor(admin.username, self._gate.client(token)), user

    def reset_password(self, token: str | None, username: str, password: str) -> None:
        """An admin sets someone else's password; that user is signed out everywhere."""
        actor, user = self._target(token, username)
        users.reset_password(self._services.system, self._kit, actor, user, password)

    def set_user_disabled(self, token: str | None, username: str, disabled: bool) -> None:
        actor, user = self._target(token, username)
        users.set_disabled(self._services.system, self._kit, actor, user, disabled)

    def delete_user(self, token: str | None, username: str) -> None:
        actor, user = self._target(token, username)
        users.delete_user(self._services.system, self._kit, actor, user)

    def user_names(self, token: str | None, tenant_id: str) -> list[str]:
        """Every account name, for the owner of `tenant_id` (or an admin) choosing whom
        to add. Owners may already add anyone by name (as in the API); the list only
        spares them the guessing. Disabled accounts are left out."""
        self._gate.access(token, tenant_id, "owner", admin_ok=True)
        return [u.username for u in self._services.system.list_users() if not u.disabled]
