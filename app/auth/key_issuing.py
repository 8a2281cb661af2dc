"""The rules for minting API keys, shared by the HTTP API and `appliance token create`."""

import re

from app.auth.api_keys import ApiKeyRecord, ApiKeys
from app.auth.principal import ROLES, role_at_least
from app.errors import AppError, Forbidden
from storage.records import TenantRecord, UserRecord
from storage.system_store import SystemStore

_DURATION = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNIT_S = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
MAX_NAME = 100


class InvalidKeyRequest(AppError):
    status_code = 422
    code = "invalid_input"


def parse_duration(text: str) -> int:
    """'90d' -> seconds; units m (minutes), h, d, w."""
    match = _DURATION.match(text)
    if not match or int(match.group(1)) <= 0:
        raise InvalidKeyRequest(
            f"expiry {text!r} must be a positive number with a unit m, h, d or w (e.g. 90d)"
        )
    return int(match.group(1)) * _UNIT_S[match.group(2)]


def role_cap(system: SystemStore, tenant_id: str, user: UserRecord) -> str | None:
    """The highest role a key of this user may carry in the tenant (admins: any)."""
    return "owner" if user.is_admin else system.role_of(tenant_id, user.id)


def issue_key(
    system: SystemStore,
    keys: ApiKeys,
    tenant: TenantRecord,
    user: UserRecord,
    role: str,
    name: str,
    expires: str | None,
) -> tuple[str, ApiKeyRecord]:
    """Mint a key for `user` in `tenant`; refuses a role above the user's own."""
    if role not in ROLES:
        raise InvalidKeyRequest(f"role must be one of {', '.join(ROLES)}")
    if not name.strip() or len(name) > MAX_NAME:
        raise InvalidKeyRequest(f"name must be 1-{MAX_NAME} characters")
    lifetime = parse_duration(expires) if expires else None
    cap = role_cap(system, tenant.id, user)
    if cap is None:
        raise Forbidden(f"{user.username} is not a member of {tenant.slug}")
    if not role_at_least(cap, role):
        raise Forbidden(f"a key cannot have a higher role ({role}) than its user ({cap})")
    return keys.create(tenant.id, user.id, role, name.strip(), lifetime)
