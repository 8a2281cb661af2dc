"""Sign-in, sessions and the tenants a user may switch between."""

from collections.abc import Mapping
from typing import Any

from app.auth.client_address import client_address
from app.auth.kit import AuthKit
from app.auth.principal import role_at_least
from app.auth.sessions import COOKIE_NAME
from app.ui_backend.gate import SessionGate
from storage.system_store import SystemStore
from ui.backend import SessionExpired, SignedIn, TenantChoice


class SessionMethods:
    """The AuthBackend part of ApplianceUiBackend."""

    cookie_name = COOKIE_NAME
    _kit: AuthKit
    _system: SystemStore
    _gate: SessionGate
    _trusted: tuple[str, ...]

    def client_address(self, scope: Mapping[str, Any]) -> str:
        """The caller's address; X-Forwarded-For only from server.trusted_proxies."""
        return client_address(scope, self._trusted)

    def sign_in(self, username: str, password: str, client: str) -> str:
        """Check the password (throttled like the API); returns a one-time ticket the
        browser exchanges for a session cookie."""
        user = self._kit.logins.check_password(username, password, client)
        return self._kit.sessions.issue_ticket(user.id)

    def user_for_session(self, token: str | None, client: str | None = None) -> SignedIn | None:
        """The signed-in user (a page was opened: counts as activity), or None."""
        try:
            user = self._gate.user(token, client=client)
        except SessionExpired:
            return None
        return SignedIn(user.id, user.username, user.is_admin)

    def session_alive(self, token: str | None) -> bool:
        """Whether the session still holds, without counting as activity."""
        try:
            self._gate.user(token, active=False)
        except SessionExpired:
            return False
        return True

    def tenants(self, token: str | None) -> list[TenantChoice]:
        """The tenants the user is a member of, with what their role allows."""
        user = self._gate.user(token)
        choices = []
        for membership in self._system.memberships(user_id=user.id):
            tenant = self._system.find_tenant(membership.tenant_id)
            role = membership.role
            choices.append(
                TenantChoice(
                    tenant.id,
                    tenant.slug,
                    tenant.name,
                    role,
                    can_edit=role_at_least(role, "editor"),
                    can_manage=role_at_least(role, "owner"),
                )
            )
        return choices

    def csrf_token(self, token: str | None) -> str | None:
        """The session's CSRF token: send it as `X-CSRF-Token` on cookie-authenticated
        POST/PUT/PATCH/DELETE calls to /api/v1 (e.g. from browser-side fetch)."""
        session = self._kit.sessions.validate(token)
        return session.csrf_token if session else None

    def sign_out_everywhere(self, token: str | None, client: str) -> bool:
        """End every session and API token of the signed-in user; False if not signed in."""
        session = self._kit.sessions.validate(token)
        user = self._system.get_user(session.user_id) if session else None
        if user is None:
            return False
        self._kit.logins.sign_out_everywhere(user, client)
        return True

    def change_password(self, token: str | None, current: str, new: str, client: str) -> bool:
        """Change the signed-in user's password; all their sessions end (sign in again).

        Raises WeakPasswordError, InvalidCredentials or LoginThrottled, each with `.detail`.
        """
        session = self._kit.sessions.validate(token)
        user = self._system.get_user(session.user_id) if session else None
        if user is None:
            return False
        self._kit.logins.change_password(user, current, new, client)
        return True
