"""Who is calling: the authenticated principal, and the tenant role ladder."""

from dataclasses import dataclass
from typing import Literal, get_args

# the one list of tenant roles, lowest first
Role = Literal["viewer", "editor", "owner"]
ROLES: tuple[str, ...] = get_args(Role)
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES, start=1)}

Via = Literal["token", "api_key", "session"]


def role_at_least(role: str | None, needed: str) -> bool:
    """True when `role` grants at least what `needed` does."""
    return role is not None and ROLE_RANK[role] >= ROLE_RANK[needed]


def lower_role(a: str, b: str) -> str:
    """The weaker of two roles."""
    return a if ROLE_RANK[a] <= ROLE_RANK[b] else b


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. API keys also carry the one tenant and role they grant."""

    user_id: str
    username: str
    is_admin: bool
    via: Via
    key_id: str | None = None
    key_tenant_id: str | None = None
    key_role: str | None = None

    @property
    def admin_powers(self) -> bool:
        """Appliance-admin rights; never through an API key, which is scoped to one tenant."""
        return self.is_admin and self.via != "api_key"

    @property
    def rate_key(self) -> str:
        """What the API rate limit counts against: the key itself, or the user."""
        return f"key:{self.key_id}" if self.key_id else f"user:{self.user_id}"
