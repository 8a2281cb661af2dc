"""Plain records returned by the system store."""

from dataclasses import dataclass


@dataclass(frozen=True)
class TenantRecord:
    id: str
    slug: str
    name: str
    created_at: str


@dataclass(frozen=True)
class UserRecord:
    id: str
    username: str
    password_hash: str
    is_admin: bool
    token_version: int
    disabled: bool
    created_at: str


@dataclass(frozen=True)
class MembershipRecord:
    tenant_id: str
    tenant_slug: str
    user_id: str
    username: str
    role: str
    created_at: str


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: str
    actor: str | None
    action: str
    tenant_id: str | None
    target: str | None
    client: str | None
    outcome: str
    detail: str | None
