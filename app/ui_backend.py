"""The UI's window onto the services (implements ui.UiBackend)."""

from app.auth.accounts import Accounts
from app.auth.sessions import COOKIE_NAME, Sessions
from storage.system_store import SystemStore
from ui.pages import SignedIn


class ApplianceUiBackend:
    cookie_name = COOKIE_NAME

    def __init__(self, accounts: Accounts, sessions: Sessions, system: SystemStore) -> None:
        self._accounts = accounts
        self._sessions = sessions
        self._system = system

    def sign_in(self, username: str, password: str, client: str) -> str:
        """Check the password; returns a one-time ticket the browser exchanges for a cookie."""
        user = self._accounts.authenticate(username, password, client)
        return self._sessions.issue_ticket(user.id)

    def user_for_session(self, token: str | None) -> SignedIn | None:
        session = self._sessions.validate(token)
        if session is None:
            return None
        user = self._system.get_user(session.user_id)
        if user is None or user.disabled:
            return None
        return SignedIn(user.id, user.username)
