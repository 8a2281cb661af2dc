"""Tenants, users, memberships, API keys and audit for the UI, through app.operations
(the same rules and audit entries as the API)."""

from typing import Any, cast

from app.api.limits import KEY_NAME, NAME, SLUG
from app.auth.kit import AuthKit
from app.auth.principal import ROLES, Role
from app.errors import NotFound
from app.operations import Actor, api_keys, members, tenants, users
from app.operations.audit import entry_json
from app.operations.expiry import plain_expiry
from app.services import Services
from app.ui_backend.errors import InvalidInput
from app.ui_backend.gate import SessionGate
from storage.errors import NotFoundError

_AUDIT_MAX = 500


class AdminMethods:
    _gate: SessionGate
    _services: Services
    _kit: AuthKit

    # -- tenants (appliance admins) -----------------------------------------------------
    def all_tenants(self, token: str | None) -> list[dict[str, Any]]:
        self._gate.admin(token)
        return [tenants.tenant_json(t) for t in self._services.system.list_tenants()]

    def create_tenant(
        self, token: str | None, name: str, display_name: str, owner: str
    ) -> dict[str, Any]:
        """A tenant with a new data key and its first owner, as POST /tenants."""
        admin = self._gate.admin(token)
        SLUG.check("name", name)
        NAME.check("display_name", display_name or None)
        owner_record = self._services.system.find_user(owner or admin.id)
        actor = Actor(admin.username, self._gate.client(token))
        record = tenants.create_tenant(self._services, actor, name, display_name, owner_record)
        return tenants.tenant_json(record)

    def delete_tenant(self, token: str | None, tenant_id: str) -> None:
        """Destroy the tenant's key, then its files (owners and admins)."""
        access = self._gate.access(token, tenant_id, "owner", admin_ok=True)
        actor = Actor(access.principal.username, self._gate.client(token))
        tenants.delete_tenant(self._services, actor, access.tenant)

    # -- users (appliance admins) -------------------------------------------------------
    def users(self, token: str | None) -> list[dict[str, Any]]:
        self._gate.admin(token)
        system = self._services.system
        return [
            {
                "id": u.id,
                "username": u.username,
                "admin": "yes" if u.is_admin else "",
                "status": "disabled" if u.disabled else "active",
                "tenants": ", ".join(
                    f"{m.tenant_slug}: {m.role}" for m in system.memberships(user_id=u.id)
                ),
                "created_at": u.created_at[:10],
            }
            for u in system.list_users()
        ]

    def create_user(
        self, token: str | None, username: str, password: str, admin: bool
    ) -> dict[str, Any]:
        """A new account (password policy as everywhere); as `appliance user create`."""
        admin_user = self._gate.admin(token)
        actor = Actor(admin_user.username, self._gate.client(token))
        user = users.create_user(self._services.system, self._kit, actor, username, password, admin)
        return {"id": user.id, "username": user.username, "admin": user.is_admin}

    # -- members (owners and admins) ----------------------------------------------------
    def members(self, token: str | None, tenant_id: str) -> list[dict[str, Any]]:
        access = self._gate.access(token, tenant_id, "owner", admin_ok=True)
        return [
            members.member_json(m)
            for m in self._services.system.memberships(tenant_id=access.tenant_id)
        ]

    def set_member(self, token: str | None, tenant_id: str, username: str, role: str) -> None:
        """Add a user or change their role, as POST /tenants/{t}/members."""
        access = self._gate.access(token, tenant_id, "owner", admin_ok=True)
        if role not in ROLES:
            raise InvalidInput(f"role must be one of {', '.join(ROLES)}")
        actor = Actor(access.principal.username, self._gate.client(token))
        try:
            members.set_member(
                self._services.system, actor, access.tenant_id, username, cast(Role, role)
            )
        except NotFoundError as exc:
            raise NotFound(
                f"there is no user named {username}; an appliance admin creates accounts "
                "under Users first"
            ) from exc

    def remove_member(self, token: str | None, tenant_id: str, username: str) -> None:
        """Remove a member and revoke their keys here, as DELETE .../members/{user}."""
        access = self._gate.access(token, tenant_id, "owner", admin_ok=True)
        actor = Actor(access.principal.username, self._gate.client(token))
        members.remove_member(
            self._services.system, self._kit.api_keys, actor, access.tenant_id, username
        )

    # -- API keys (every member, for themselves) ---------------------------------------
    def api_keys(self, token: str | None, tenant_id: str) -> list[dict[str, Any]]:
        access = self._gate.access(token, tenant_id, "viewer")
        return api_keys.visible_keys(self._kit, access)

    def create_api_key(
        self, token: str | None, tenant_id: str, name: str, role: str, expires: str | None
    ) -> tuple[str, dict[str, Any]]:
        """(secret, public record): the secret is returned here and never again."""
        access = self._gate.access(token, tenant_id, "viewer")
        KEY_NAME.check("name", name)
        secret, record = api_keys.create_key(
            self._services.system,
            self._kit,
            access,
            self._gate.client(token),
            name,
            role,
            plain_expiry(expires),
        )
        return secret, record.public()

    def revoke_api_key(self, token: str | None, tenant_id: str, key_id: str) -> None:
        access = self._gate.access(token, tenant_id, "viewer")
        actor = Actor(access.principal.username, self._gate.client(token))
        api_keys.revoke_key(self._services.system, self._kit, access, actor, key_id)

    # -- audit (admins: all; owners: their tenant) -------------------------------------
    def audit(
        self, token: str | None, tenant_id: str | None, limit: int = 200
    ) -> list[dict[str, Any]]:
        # reading the log is not activity: the page refreshes it on a timer, which must
        # not keep an idle session alive
        if tenant_id is None:
            self._gate.admin(token, active=False)
        else:
            tenant_id = self._gate.access(
                token, tenant_id, "owner", admin_ok=True, active=False
            ).tenant_id
        entries = self._services.system.audit_entries(
            tenant_id=tenant_id, limit=max(1, min(limit, _AUDIT_MAX))
        )
        return [entry_json(e) for e in entries]
