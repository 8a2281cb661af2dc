"""The UI's window onto the services (implements ui.UiBackend)."""

from app.auth.kit import AuthKit
from app.auth.sessions import COOKIE_NAME
from storage.system_store import SystemStore
from ui.pages import SignedIn


class ApplianceUiBackend:
    cookie_name = COOKIE_NAME

    def __init__(self, kit: AuthKit, system: SystemStore) -> None:
        self._kit = kit
        self._sessions = kit.sessions
        self._system = system

    def sign_in(self, username: str, password: str, client: str) -> str:
        """Check the password (throttled like the API); returns a one-time ticket the
        browser exchanges for a session cookie."""
        user = self._kit.logins.check_password(username, password, client)
        return self._sessions.issue_ticket(user.id)

    def user_for_session(self, token: str | None) -> SignedIn | None:
        session = self._sessions.validate(token)
        if session is None:
            return None
        user = self._system.get_user(session.user_id)
        if user is None or user.disabled:
            return None
        return SignedIn(user.id, user.username)

    def csrf_token(self, token: str | None) -> str | None:
        """The session's CSRF token: send it as `X-CSRF-Token` on cookie-authenticated
        POST/PUT/PATCH/DELETE calls to /api/v1 (e.g. from browser-side fetch)."""
        session = self._sessions.validate(token)
        return session.csrf_token if session else None

    def sign_out_everywhere(self, token: str | None, client: str) -> bool:
        """End every session and API token of the signed-in user; False if not signed in."""
        session = self._sessions.validate(token)
        user = self._system.get_user(session.user_id) if session else None
        if user is None:
            return False
        self._kit.logins.sign_out_everywhere(user, client)
        return True

    def change_password(self, token: str | None, current: str, new: str, client: str) -> bool:
        """Change the signed-in user's password; all their sessions end (sign in again).

        Raises WeakPasswordError, InvalidCredentials or LoginThrottled, each with `.detail`.
        """
        session = self._sessions.validate(token)
        user = self._system.get_user(session.user_id) if session else None
        if user is None:
            return False
        self._kit.logins.change_password(user, current, new, client)
        return True
