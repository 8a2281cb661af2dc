"""Sign-in flows shared by the API and the UI: throttle, verify, issue, revoke, audit.

Audit entries name who, what and from where; they never include a password or token.
"""

from dataclasses import dataclass

from app.auth.accounts import Accounts, InvalidCredentials
from app.auth.refresh_tokens import RefreshReplayed, RefreshTokens
from app.auth.sessions import Sessions
from app.auth.throttle import LoginThrottle, LoginThrottled
from app.auth.tokens import AccessTokens, InvalidToken
from storage.errors import NotFoundError
from storage.records import UserRecord
from storage.system_store import SystemStore


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type name


class Logins:
    """Password checks behind the throttle, and the token lifecycle around them."""

    def __init__(
        self,
        system: SystemStore,
        accounts: Accounts,
        throttle: LoginThrottle,
        access: AccessTokens,
        refresh: RefreshTokens,
        sessions: Sessions,
    ) -> None:
        self._system = system
        self._accounts = accounts
        self._throttle = throttle
        self._access = access
        self._refresh = refresh
        self._sessions = sessions

    def check_password(
        self, username: str, password: str, client: str, action: str = "login"
    ) -> UserRecord:
        """The user if the password is right; throttled attempts never reach argon2."""
        try:
            self._throttle.check(username, client)
        except LoginThrottled:
            self._system.audit(
                action, actor=self._known(username), client=client, outcome="throttled"
            )
            raise
        try:
            user = self._accounts.authenticate(username, password, client, action)
        except InvalidCredentials:
            self._throttle.record_failure(username, client)
            raise
        self._throttle.clear_account(username)
        return user

    def _known(self, username: str) -> str | None:
        # only real account names go into the audit log (see Accounts.authenticate)
        try:
            return self._system.find_user(username).username
        except NotFoundError:
            return None

    def login(self, username: str, password: str, client: str) -> TokenPair:
        """API sign-in: a fresh access token and a refresh token starting a new family."""
        user = self.check_password(username, password, client)
        return self._pair(user, self._refresh.issue(user.id))

    def refresh(self, refresh_token: str, client: str) -> TokenPair:
        """Rotate the refresh token; a replayed one revokes its family and is audited."""
        try:
            rotation = self._refresh.rotate(refresh_token)
        except RefreshReplayed as replay:
            user = self._system.get_user(replay.user_id)
            self._system.audit(
                "token.refresh_replay",
                actor=user.username if user else None,
                client=client,
                outcome="failure",
                detail={"result": "token family revoked"},
            )
            raise
        user = self._system.get_user(rotation.user_id)
        if user is None or user.disabled:
            raise InvalidToken()
        return self._pair(user, rotation.token)

    def _pair(self, user: UserRecord, refresh_token: str) -> TokenPair:
        return TokenPair(self._access.issue(user), refresh_token, self._access.lifetime_s)

    def sign_out_everywhere(self, user: UserRecord, client: str, action: str = "logout") -> None:
        """Revoke refresh tokens, outdate access tokens and end every browser session."""
        self._refresh.revoke_user(user.id)
        self._system.bump_token_version(user.id)
        self._sessions.revoke_user(user.id)
        self._system.audit(action, actor=user.username, target=user.username, client=client)

    def change_password(self, user: UserRecord, current: str, new: str, client: str) -> None:
        """Check the current password (throttled like a sign-in), set the new one, sign out."""
        self._accounts.passwords.check_policy(new)
        verified = self.check_password(user.username, current, client, "user.password_check")
        self._system.set_password_hash(
            verified.id, self._accounts.passwords.hash(new), bump_token_version=True
        )
        self._refresh.revoke_user(verified.id)
        self._sessions.revoke_user(verified.id)
        self._system.audit(
            "user.password_change", actor=verified.username, target=verified.username, client=client
        )
