"""May this principal use this tenant, and with which role? The rules in one function.

- Members act with their role. Appliance admins manage tenants and memberships and read
  audit logs (routes marked `admin_ok`) without being members, but tenant *data* needs a
  membership like everyone else, so reading documents is always visible in the audit log
  as a membership change first.
- An API key works only in its own tenant, with its role capped by its user's current
  role (admins: the key's role), and only while its user is still a member (or an admin).
- A tenant the caller may not see is reported exactly like one that does not exist.
"""

from dataclasses import dataclass
from typing import Protocol

from app.auth.principal import Principal, lower_role, role_at_least
from app.errors import Forbidden, NotFound
from storage.errors import NotFoundError
from storage.records import TenantRecord

TENANT_NOT_FOUND = "no such tenant"


class TenantNotFound(NotFound):
    """Same status, code and text for unknown and forbidden tenants: nothing leaks."""

    def __init__(self) -> None:
        super().__init__(TENANT_NOT_FOUND)


class TenantRoles(Protocol):
    """SystemStore, or the SystemLookups of one request."""

    def tenant_and_role(self, ref: str, user_id: str) -> tuple[TenantRecord, str | None]: ...


@dataclass(frozen=True)
class TenantAccess:
    tenant: TenantRecord
    principal: Principal
    role: str | None  # None: an admin acting without membership on an admin_ok route

    @property
    def tenant_id(self) -> str:
        return self.tenant.id


def _effective_role(principal: Principal, member_role: str | None, tenant_id: str) -> str | None:
    if principal.via != "api_key":
        return member_role
    if principal.key_tenant_id != tenant_id or principal.key_role is None:
        return None
    if principal.is_admin:
        return principal.key_role
    return lower_role(principal.key_role, member_role) if member_role else None


def resolve_access(
    system: TenantRoles,
    principal: Principal,
    ref: str,
    needed: str,
    *,
    admin_ok: bool = False,
    users_only: bool = False,
) -> TenantAccess:
    """TenantAccess for `ref` (slug or id), or TenantNotFound / Forbidden."""
    try:
        tenant, member_role = system.tenant_and_role(ref, principal.user_id)
    except NotFoundError:
        raise TenantNotFound() from None
    role = _effective_role(principal, member_role, tenant.id)
    admin_here = admin_ok and principal.admin_powers
    if role is None and not admin_here:
        raise TenantNotFound()
    if users_only and principal.via == "api_key":
        raise Forbidden("API keys cannot do this; sign in as a user")
    if not admin_here and not role_at_least(role, needed):
        raise Forbidden(f"this needs the {needed} role in workspace (tenant) {tenant.slug}")
    return TenantAccess(tenant, principal, role)
