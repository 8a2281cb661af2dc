"""Accounts, for appliance admins: GET|POST /users, POST /users/{user}/password,
PATCH|DELETE /users/{user}. The same operations as the admin UI and `appliance user`.

An admin cannot reset, disable or delete their own account here (409 `own_account`):
their own password changes through POST /auth/password with the current one.
"""

from typing import Annotated, Any

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from app.api.deps import AuthDep, ClientDep, PrincipalDep, ServicesDep
from app.api.guards import admin_guard
from app.api.limits import Bounded
from app.operations import Actor, users

Secret = Annotated[str, msgspec.Meta(max_length=1024)]


class NewUser(msgspec.Struct):
    username: Bounded
    password: Secret
    admin: bool = False


class PasswordReset(msgspec.Struct):
    password: Secret


class UserChange(msgspec.Struct):
    disabled: bool


class UsersController(Controller):
    path = "/users"
    tags = ["users"]
    guards = [admin_guard]

    @get("/", sync_to_thread=True)
    def list_users(self, services: ServicesDep) -> list[dict[str, Any]]:
        """Every account (no password hashes)."""
        return [users.user_json(u) for u in services.system.list_users()]

    @post("/", status_code=HTTP_201_CREATED, sync_to_thread=True)
    def create_user(
        self,
        data: JSONBody[NewUser],
        principal: PrincipalDep,
        services: ServicesDep,
        auth: AuthDep,
        client: ClientDep,
    ) -> dict[str, Any]:
        """A new account; the username rule and the password policy apply."""
        actor = Actor(principal.username, client)
        made = users.create_user(
            services.system, auth, actor, data.username, data.password, data.admin
        )
        return users.user_json(made)

    @post("/{user:str}/password", status_code=HTTP_204_NO_CONTENT, sync_to_thread=True)
    def reset_password(
        self,
        user: FromPath[str],
        data: JSONBody[PasswordReset],
        principal: PrincipalDep,
        services: ServicesDep,
        auth: AuthDep,
        client: ClientDep,
    ) -> None:
        """Set another user's password; they are signed out everywhere."""
        target = services.system.find_user(user)
        users.reset_password(
            services.system, auth, Actor(principal.username, client), target, data.password
        )

    @patch("/{user:str}", status_code=HTTP_200_OK, sync_to_thread=True)
    def change_user(
        self,
        user: FromPath[str],
        data: JSONBody[UserChange],
        principal: PrincipalDep,
        services: ServicesDep,
        auth: AuthDep,
        client: ClientDep,
    ) -> dict[str, Any]:
        """Disable (signs out everywhere, API keys stop working) or enable an account."""
        target = services.system.find_user(user)
        users.set_disabled(
            services.system, auth, Actor(principal.username, client), target, data.disabled
        )
        return users.user_json(services.system.find_user(target.id))

    @delete("/{user:str}", status_code=HTTP_204_NO_CONTENT, sync_to_thread=True)
    def delete_user(
        self,
        user: FromPath[str],
        principal: PrincipalDep,
        services: ServicesDep,
        auth: AuthDep,
        client: ClientDep,
    ) -> None:
        """Delete an account with its memberships and keys (not a workspace's only owner)."""
        target = services.system.find_user(user)
        users.delete_user(services.system, auth, Actor(principal.username, client), target)
