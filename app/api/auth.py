"""POST /auth/login, /auth/refresh, /auth/logout, /auth/password."""

from typing import Annotated, Any

import msgspec
from litestar import Controller, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from app.api.deps import AuthDep, ClientDep, PrincipalDep, ServicesDep
from app.api.guards import user_guard
from app.api.limits import Bounded

_PUBLIC = {"public": True}


Secret = Annotated[str, msgspec.Meta(max_length=1024)]


class LoginBody(msgspec.Struct):
    username: Bounded
    password: Secret


class RefreshBody(msgspec.Struct):
    refresh_token: Secret


class PasswordBody(msgspec.Struct):
    current_password: Secret
    new_password: Secret


class TokenResponse(msgspec.Struct):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int


def _tokens(pair: Any) -> TokenResponse:
    return TokenResponse(pair.access_token, pair.refresh_token, pair.token_type, pair.expires_in)


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]

    @post("/login", opt=_PUBLIC, status_code=HTTP_200_OK, sync_to_thread=True)
    def login(self, data: JSONBody[LoginBody], auth: AuthDep, client: ClientDep) -> TokenResponse:
        """Password sign-in: a short-lived access token and a rotating refresh token.

        Too many failures for the account or from the address: 429 with Retry-After.
        """
        return _tokens(auth.logins.login(data.username, data.password, client))

    @post("/refresh", opt=_PUBLIC, status_code=HTTP_200_OK, sync_to_thread=True)
    def refresh(
        self, data: JSONBody[RefreshBody], auth: AuthDep, client: ClientDep
    ) -> TokenResponse:
        """Swap a refresh token for a new pair; each refresh token works once."""
        return _tokens(auth.logins.refresh(data.refresh_token, client))

    @post("/logout", guards=[user_guard], status_code=HTTP_204_NO_CONTENT, sync_to_thread=True)
    def logout(
        self, principal: PrincipalDep, auth: AuthDep, services: ServicesDep, client: ClientDep
    ) -> None:
        """Sign out everywhere: refresh tokens, access tokens and browser sessions end."""
        user = services.system.get_user(principal.user_id)
        if user is not None:
            auth.logins.sign_out_everywhere(user, client)

    @post("/password", guards=[user_guard], status_code=HTTP_204_NO_CONTENT, sync_to_thread=True)
    def change_password(
        self,
        principal: PrincipalDep,
        data: JSONBody[PasswordBody],
        auth: AuthDep,
        services: ServicesDep,
        client: ClientDep,
    ) -> None:
        """Change the caller's password; every token and session is revoked afterwards."""
        user = services.system.get_user(principal.user_id)
        if user is not None:
            auth.logins.change_password(user, data.current_password, data.new_password, client)
