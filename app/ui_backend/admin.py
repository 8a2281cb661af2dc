"""Tenants, users, memberships, API keys and audit: the API controllers' rules and audit
entries, called from the UI (app/api/tenants.py, members.py, api_keys.py, audit.py)."""

import re
from typing import Any

from app.api.api_keys import _visible as key_visible
from app.api.audit import entry_json
from app.api.limits import KEY_NAME, NAME, SLUG
from app.api.members import _keep_an_owner as keep_an_owner
from app.api.members import member_json
from app.api.tenants import tenant_json
from app.auth.key_issuing import issue_key
from app.auth.kit import AuthKit
from app.auth.principal import ROLES
from app.errors import NotFound
from app.services import Services
from app.ui_backend.errors import InvalidInput
from app.ui_backend.gate import SessionGate
from storage.errors import NotFoundError

_USERNAME = re.compile(r"^[\w.@+-]{1,64}$")
_AUDIT_MAX = 500


class AdminMethods:
    _gate: SessionGate
    _services: Services
    _kit: AuthKit

    # -- tenants (appliance admins) -----------------------------------------------------
    def all_tenants(self, token: str | None) -> list[dict[str, Any]]:
        self._gate.admin(token)
        return [tenant_json(t) for t in self._services.system.list_tenants()]

    def create_tenant(
        self, token: str | None, name: str, display_name: str, owner: str
    ) -> dict[str, Any]:
        """A tenant with a new data key and its first owner, as POST /tenants."""
        admin = self._gate.admin(token)
        SLUG.check("name", name)
        NAME.check("display_name", display_name or None)
        system, client = self._services.system, self._gate.client(token)
        owner_record = system.find_user(owner or admin.id)
        record = self._services.tenants.create(name, display_name or None)
        system.audit(
            "tenant.create",
            actor=admin.username,
            tenant_id=record.id,
            target=record.slug,
            client=client,
        )
        system.set_membership(record.id, owner_record.id, "owner")
        system.audit(
            "member.set",
            actor=admin.username,
            tenant_id=record.id,
            target=owner_record.username,
            client=client,
            detail={"role": "owner", "previous": None},
        )
        return tenant_json(record)

    def delete_tenant(self, token: str | None, tenant_id: str) -> None:
        """Destroy the tenant's key, then its files (owners and admins)."""
        access = self._gate.access(token, tenant_id, "owner", admin_ok=True)
        self._services.tenants.delete(access.tenant_id)
        self._services.system.audit(
            "tenant.delete",
            actor=access.principal.username,
            tenant_id=access.tenant_id,
            target=access.tenant.slug,
            client=self._gate.client(token),
        )

    # -- users (appliance admins) -------------------------------------------------------
    def users(self, token: str | None) -> list[dict[str, Any]]:
        self._gate.admin(token)
        system = self._services.system
        return [
            {
                "id": u.id,
                "username": u.username,
                "admin": "yes" if u.is_admin else "",
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
        actor = self._gate.admin(token)
        if not _USERNAME.fullmatch(username):
            raise InvalidInput("a username has 1-64 letters, digits or . @ + - _")
        passwords = self._kit.passwords
        passwords.check_policy(password)
        user = self._services.system.insert_user(username, passwords.hash(password), admin)
        self._services.system.audit(
            "user.create",
            actor=actor.username,
            target=user.username,
            client=self._gate.client(token),
            detail={"admin": admin},
        )
        return {"id": user.id, "username": user.username, "admin": user.is_admin}

    # -- members (owners and admins) ----------------------------------------------------
    def members(self, token: str | None, tenant_id: str) -> list[dict[str, Any]]:
        access = self._gate.access(token, tenant_id, "owner", admin_ok=True)
        return [
            member_json(m) for m in self._services.system.memberships(tenant_id=access.tenant_id)
        ]

    def set_member(self, token: str | None, tenant_id: str, username: str, role: str) -> None:
        """Add a user or change their role, as POST /tenants/{t}/members."""
        access = self._gate.access(token, tenant_id, "owner", admin_ok=True)
        if role not in ROLES:
            raise InvalidInput(f"role must be one of {', '.join(ROLES)}")
        system = self._services.system
        user = system.find_user(username)
        previous = system.role_of(access.tenant_id, user.id)
        if previous == "owner" and role != "owner":
            keep_an_owner(self._services, access.tenant_id, user.id)
        system.set_membership(access.tenant_id, user.id, role)
        system.audit(
            "member.set",
            actor=access.principal.username,
            tenant_id=access.tenant_id,
            target=user.username,
            client=self._gate.client(token),
            detail={"role": role, "previous": previous},
        )

    def remove_member(self, token: str | None, tenant_id: str, username: str) -> None:
        """Remove a member and revoke their keys here, as DELETE .../members/{user}."""
        access = self._gate.access(token, tenant_id, "owner", admin_ok=True)
        system = self._services.system
        record = system.find_user(username)
        previous = system.role_of(access.tenant_id, record.id)
        if previous is None:
            raise NotFound(f"{record.username} is not a member of this tenant")
        if previous == "owner":
            keep_an_owner(self._services, access.tenant_id, record.id)
        system.remove_membership(access.tenant_id, record.id)
        revoked = self._kit.api_keys.revoke_member(access.tenant_id, record.id)
        system.audit(
            "member.remove",
            actor=access.principal.username,
            tenant_id=access.tenant_id,
            target=record.username,
            client=self._gate.client(token),
            detail={"previous": previous, "api_keys_revoked": revoked},
        )

    # -- API keys (every member, for themselves) ---------------------------------------
    def api_keys(self, token: str | None, tenant_id: str) -> list[dict[str, Any]]:
        access = self._gate.access(token, tenant_id, "viewer")
        keys = self._kit.api_keys.for_tenant(access.tenant_id)
        return [k.public() for k in keys if key_visible(access, k)]

    def create_api_key(
        self, token: str | None, tenant_id: str, name: str, role: str, expires: str | None
    ) -> tuple[str, dict[str, Any]]:
        """(secret, public record): the secret is returned here and never again."""
        access = self._gate.access(token, tenant_id, "viewer")
        KEY_NAME.check("name", name)
        system = self._services.system
        user = system.find_user(access.principal.user_id)
        secret, record = issue_key(
            system, self._kit.api_keys, access.tenant, user, role, name, expires
        )
        system.audit(
            "api_key.create",
            actor=user.username,
            tenant_id=record.tenant_id,
            target=record.id,
            client=self._gate.client(token),
            detail={
                "name": record.name,
                "role": record.role,
                "expires_at": record.public()["expires_at"],
            },
        )
        return secret, record.public()

    def revoke_api_key(self, token: str | None, tenant_id: str, key_id: str) -> None:
        access = self._gate.access(token, tenant_id, "viewer")
        try:
            key = self._kit.api_keys.get(key_id)
        except NotFoundError:
            key = None
        if key is None or key.tenant_id != access.tenant_id or not key_visible(access, key):
            raise NotFound(f"no API key {key_id!r} in this tenant")
        self._kit.api_keys.revoke(key.id)
        self._services.system.audit(
            "api_key.revoke",
            actor=access.principal.username,
            tenant_id=key.tenant_id,
            target=key.id,
            client=self._gate.client(token),
            detail={"name": key.name, "owner": key.username},
        )

    # -- audit (admins: all; owners: their tenant) -------------------------------------
    def audit(
        self, token: str | None, tenant_id: str | None, limit: int = 200
    ) -> list[dict[str, Any]]:
        if tenant_id is None:
            self._gate.admin(token)
        else:
            tenant_id = self._gate.access(token, tenant_id, "owner", admin_ok=True).tenant_id
        entries = self._services.system.audit_entries(
            tenant_id=tenant_id, limit=max(1, min(limit, _AUDIT_MAX))
        )
        return [entry_json(e) for e in entries]
