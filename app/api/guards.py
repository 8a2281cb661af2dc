"""Guards for routes outside a tenant: signed-in users, appliance admins."""

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from app.api.authn import AuthenticationRequired, principal_of
from app.auth.principal import Principal
from app.errors import Forbidden


def require_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The authenticated caller; 401 if there is none."""
    principal = principal_of(connection.scope)
    if principal is None:
        raise AuthenticationRequired("sign in first")
    return principal


# guards are coroutines: Litestar runs a plain function guard in a worker thread, a
# hand-off that cost more than the check itself
async def admin_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Only appliance admins signed in as users (API keys never carry admin rights)."""
    if not require_principal(connection).admin_powers:
        raise Forbidden("only appliance admins can do this")


async def user_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A signed-in user, not an API key (for actions on the account itself)."""
    if require_principal(connection).via == "api_key":
        raise Forbidden("API keys cannot do this; sign in as a user")
