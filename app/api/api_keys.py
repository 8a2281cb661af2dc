"""POST|GET /tenants/{tenant}/api-keys and DELETE .../api-keys/{key_id}.

Any member may hold keys up to their own role; owners also see and revoke everyone's.
Keys cannot mint or revoke keys (users_only), so a leaked key cannot entrench itself.
"""

from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from app.api.deps import AuthDep, ClientDep, ServicesDep, TenantAccessDep
from app.api.limits import EXPIRES, KEY_NAME
from app.auth.api_keys import ApiKeyRecord
from app.auth.key_issuing import issue_key
from app.auth.principal import role_at_least
from app.auth.tenant_access import TenantAccess
from app.errors import NotFound
from storage.errors import NotFoundError

_MEMBERS = {"min_role": "viewer", "users_only": True}


class NewKey(msgspec.Struct):
    name: Annotated[str, KEY_NAME.schema()]
    role: Literal["owner", "editor", "viewer"] = "viewer"
    expires: Annotated[str, EXPIRES.schema()] | None = None  # "90d", "12h"; none: no expiry


def _visible(access: TenantAccess, key: ApiKeyRecord) -> bool:
    return key.user_id == access.principal.user_id or role_at_least(access.role, "owner")


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
        user = services.system.find_user(tenant_access.principal.user_id)
        secret, record = issue_key(
            services.system,
            auth.api_keys,
            tenant_access.tenant,
            user,
            data.role,
            data.name,
            data.expires,
        )
        services.system.audit(
            "api_key.create",
            actor=user.username,
            tenant_id=record.tenant_id,
            target=record.id,
            client=client,
            detail={
                "name": record.name,
                "role": record.role,
                "expires_at": record.public()["expires_at"],
            },
        )
        return {**record.public(), "key": secret}

    @get("/", sync_to_thread=True)
    def list_keys(self, tenant_access: TenantAccessDep, auth: AuthDep) -> list[dict[str, Any]]:
        """The caller's keys (owners: everyone's); secrets are never shown again."""
        keys = auth.api_keys.for_tenant(tenant_access.tenant_id)
        return [k.public() for k in keys if _visible(tenant_access, k)]

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
        try:
            key = auth.api_keys.get(key_id)
        except NotFoundError:
            key = None
        if (
            key is None
            or key.tenant_id != tenant_access.tenant_id
            or not _visible(tenant_access, key)
        ):
            raise NotFound(f"no API key {key_id!r} in this tenant")
        auth.api_keys.revoke(key.id)
        services.system.audit(
            "api_key.revoke",
            actor=tenant_access.principal.username,
            tenant_id=key.tenant_id,
            target=key.id,
            client=client,
            detail={"name": key.name, "owner": key.username},
        )
