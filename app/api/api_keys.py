"""POST|GET /tenants/{tenant}/api-keys and DELETE .../api-keys/{key_id}.

Any member may hold keys up to their own role; owners also see and revoke everyone's.
Keys cannot mint or revoke keys (users_only), so a leaked key cannot entrench itself.
"""

from typing import Annotated, Any

import msgspec
from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from app.api.deps import AuthDep, ClientDep, ServicesDep, TenantAccessDep
from app.api.limits import EXPIRES, KEY_NAME
from app.auth.principal import Role
from app.operations import Actor, api_keys

_MEMBERS = {"min_role": "viewer", "users_only": True}


class NewKey(msgspec.Struct):
    name: Annotated[str, KEY_NAME.schema()]
    role: Role = "viewer"
    expires: Annotated[str, EXPIRES.schema()] | None = None  # "90d", "12h"; none: no expiry


class ApiKeysController(Controller):
    path = "/api-keys"
    tags = ["api-keys"]
    opt = _MEMBERS

    @post("/", status_code=HTTP_201_CREATED, sync_to_thread=True)
    def create_key(
        self,
        data: JSONBody[NewKey],
        tenant_access: TenantAccessDep,
        services: ServicesDep,
        auth: AuthDep,
        client: ClientDep,
    ) -> dict[str, Any]:
        """A new key for the caller in this tenant; `key` is in this response only."""
        KEY_NAME.check("name", data.name)
        EXPIRES.check("expires", data.expires)
        secret, record = api_keys.create_key(
            services.system, auth, tenant_access, client, data.name, data.role, data.expires
        )
        return {**record.public(), "key": secret}

    @get("/", sync_to_thread=True)
    def list_keys(self, tenant_access: TenantAccessDep, auth: AuthDep) -> list[dict[str, Any]]:
        """The caller's keys (owners: everyone's); secrets are never shown again."""
        return api_keys.visible_keys(auth, tenant_access)

    @delete("/{key_id:str}", status_code=HTTP_204_NO_CONTENT, sync_to_thread=True)
    def revoke_key(
        self,
        key_id: FromPath[str],
        tenant_access: TenantAccessDep,
        services: ServicesDep,
        auth: AuthDep,
        client: ClientDep,
    ) -> None:
        """Revoke a key now; requests made with it get 401 from then on."""
        actor = Actor(tenant_access.principal.username, client)
        api_keys.revoke_key(services.system, auth, tenant_access, actor, key_id)
