"""Authentication of API requests (the request gate, app/api/gate.py, calls it).

Routes are private unless their handler (or a layer above it) sets `opt={"public": True}`:
a route someone forgets to mark is closed, not open. Routes marked `opt={"hook": True}`
(only those listed in route_audit.HOOK_ROUTES) authenticate the caller as an inbound hook
instead of a user, in the tenant guard. Presented credentials that fail
are refused with 401 even where anonymous access would be fine (except on public
routes, which ignore credentials so an expired token cannot block /auth/refresh).
"""

from typing import Any

import anyio
from litestar.types import Scope

from app.auth.authenticator import Authenticator
from app.auth.principal import Principal
from app.auth.sessions import COOKIE_NAME
from app.auth.tokens import BEARER_CHALLENGE
from app.errors import Unauthorized
from storage.system_store import SystemLookups


class AuthenticationRequired(Unauthorized):
    code = "authentication_required"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _cookie(scope: Scope, name: str) -> str | None:
    raw = _header(scope, b"cookie")
    if not raw:
        return None
    for part in raw.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def principal_of(scope: Any) -> Principal | None:
    """The principal the middleware attached, if any."""
    user = scope.get("user")
    return user if isinstance(user, Principal) else None


class Authentication:
    """Turns the credentials of an API request into a Principal (run by the request gate)."""

    def __init__(self, authenticator: Authenticator) -> None:
        self.authenticator = authenticator

    async def principal(self, scope: Scope, lookups: SystemLookups) -> Principal:
        """The caller; 401 when no or bad credentials were sent."""
        authorization = _header(scope, b"authorization")
        if authorization is not None:
            scheme, _, credential = authorization.partition(" ")
            if scheme.lower() != "bearer" or not credential.strip():
                raise Unauthorized(
                    "use 'Authorization: Bearer <token or API key>'", headers=BEARER_CHALLENGE
                )
            # JWT and key checks are single indexed reads on WAL readers, which never wait
            # for writers; a thread hop would cost more than the lookup itself
            principal = self.authenticator.bearer(credential.strip(), lookups)
            keys = self.authenticator.keys
            if principal.key_id and keys.needs_touch(principal.key_id):
                await anyio.to_thread.run_sync(keys.touch, principal.key_id)
            return principal
        cookie = _cookie(scope, COOKIE_NAME)
        if cookie:
            # session validation may write (idle timer), so it runs off the event loop
            return await anyio.to_thread.run_sync(
                self.authenticator.session,
                cookie,
                str(scope.get("method", "GET")),
                _header(scope, b"x-csrf-token"),
                lookups,
            )
        raise AuthenticationRequired(
            "sign in first: no credentials were sent", headers={"WWW-Authenticate": "Bearer"}
        )
