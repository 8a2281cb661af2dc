"""Turns presented credentials into a Principal: JWT or API key (Bearer), or session cookie.

Checks here are the same for every route; what a principal may do in a tenant is the
tenant guard's business (app/api/tenant_scope.py).
"""

import hmac

from app.auth.api_keys import ApiKeys, looks_like_api_key
from app.auth.principal import Principal
from app.auth.sessions import Sessions
from app.auth.tokens import AccessTokens, InvalidToken
from app.errors import Forbidden
from storage.records import UserRecord
from storage.system_store import SystemLookups, SystemStore

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "x-csrf-token"


class CsrfRejected(Forbidden):
    code = "csrf_failed"


class Authenticator:
    """One place that validates every kind of credential."""

    def __init__(
        self, system: SystemStore, tokens: AccessTokens, keys: ApiKeys, sessions: Sessions
    ) -> None:
        self._system = system
        self._tokens = tokens
        self.keys = keys
        self._sessions = sessions

    def _live_user(self, user_id: str, lookups: SystemLookups | None) -> UserRecord:
        user = (lookups or self._system).get_user(user_id)
        if user is None or user.disabled:
            raise InvalidToken()
        return user

    def bearer(self, credential: str, lookups: SystemLookups | None = None) -> Principal:
        """A principal for `Authorization: Bearer <credential>`; InvalidToken otherwise.

        `lookups`: the request's view of system.db, when it has one (API gate)."""
        if looks_like_api_key(credential):
            key = self.keys.verify(credential)
            user = self._live_user(key.user_id, lookups)
            return Principal(
                user.id,
                user.username,
                user.is_admin,
                "api_key",
                key_id=key.id,
                key_tenant_id=key.tenant_id,
                key_role=key.role,
            )
        claims = self._tokens.verify(credential)
        user = self._live_user(claims.user_id, lookups)
        if user.token_version != claims.token_version:
            # logout or a password change since this token was issued
            raise InvalidToken("access token revoked; sign in again")
        return Principal(user.id, user.username, user.is_admin, "token")

    def session(
        self,
        cookie: str,
        method: str,
        csrf_header: str | None,
        lookups: SystemLookups | None = None,
    ) -> Principal:
        """A principal for the browser session cookie; state changes need the CSRF token."""
        session = self._sessions.validate(cookie)
        if session is None:
            raise InvalidToken("session expired; sign in again")
        if method not in SAFE_METHODS and not (
            csrf_header and hmac.compare_digest(csrf_header.encode(), session.csrf_token.encode())
        ):
            raise CsrfRejected(
                "missing or wrong X-CSRF-Token header for a cookie-authenticated request"
            )
        user = self._live_user(session.user_id, lookups)
        return Principal(user.id, user.username, user.is_admin, "session")
