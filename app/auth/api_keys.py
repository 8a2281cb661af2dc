"""API keys for scripts: `aak_<random>`, shown once, stored as a SHA-256 hash.

A key is bound to one tenant, one user and a role. `last_used_at` is written at most
once a minute per key so a busy script does not turn every read into a write.
"""

import hashlib
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.auth.tokens import InvalidToken
from storage.clock import now_iso
from storage.database import Database
from storage.errors import NotFoundError

KEY_PREFIX = "aak_"
_SHOWN_CHARS = 6
_TOUCH_EVERY_S = 60.0
_COLUMNS = (
    "k.id, k.prefix, k.name, k.tenant_id, k.user_id, u.username, k.role, k.created_at, "
    "k.expires_at, k.revoked_at, k.last_used_at"
)


def key_hash(secret: str) -> str:
    # keys carry 256 random bits: a fast hash suffices, nothing to brute-force
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_api_key(credential: str) -> bool:
    return credential.startswith(KEY_PREFIX)


@dataclass(frozen=True)
class ApiKeyRecord:
    id: str
    prefix: str
    name: str
    tenant_id: str
    user_id: str
    username: str
    role: str
    created_at: str
    expires_at: float | None
    revoked_at: str | None
    last_used_at: str | None

    def public(self) -> dict[str, Any]:
        """What listings show: everything except the secret, which is never stored."""
        expires = (
            datetime.fromtimestamp(self.expires_at, UTC).isoformat(timespec="seconds")
            if self.expires_at is not None
            else None
        )
        return {
            "id": self.id,
            "prefix": self.prefix,
            "name": self.name,
            "user": self.username,
            "role": self.role,
            "created_at": self.created_at,
            "expires_at": expires,
            "revoked_at": self.revoked_at,
            "last_used_at": self.last_used_at,
        }


class ApiKeys:
    """Create, look up, list and revoke API keys in system.db."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock
        self._touched: dict[str, float] = {}

    def create(
        self, tenant_id: str, user_id: str, role: str, name: str, lifetime_s: float | None
    ) -> tuple[str, ApiKeyRecord]:
        """A new key; the secret is returned here and nowhere else."""
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        key_id = "key_" + uuid.uuid4().hex[:16]
        expires = self._clock() + lifetime_s if lifetime_s is not None else None
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO api_keys (id, key_hash, prefix, name, tenant_id, user_id, role, "
                "created_at, expires_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    key_id,
                    key_hash(secret),
                    secret[: len(KEY_PREFIX) + _SHOWN_CHARS],
                    name,
                    tenant_id,
                    user_id,
                    role,
                    now_iso(),
                    expires,
                ),
            )
        return secret, self.get(key_id)

    def get(self, key_id: str) -> ApiKeyRecord:
        rows = self._select("k.id = ?", (key_id,))
        if not rows:
            raise NotFoundError(f"no API key {key_id!r}")
        return rows[0]

    def verify(self, secret: str) -> ApiKeyRecord:
        """The live key for this secret; InvalidToken if unknown, revoked or expired."""
        rows = self._select("k.key_hash = ?", (key_hash(secret),))
        if not rows:
            raise InvalidToken("invalid API key")
        record = rows[0]
        if record.revoked_at is not None:
            raise InvalidToken("API key revoked")
        if record.expires_at is not None and record.expires_at <= self._clock():
            raise InvalidToken("API key expired")
        return record

    def needs_touch(self, key_id: str) -> bool:
        last = self._touched.get(key_id)
        return last is None or time.monotonic() - last >= _TOUCH_EVERY_S

    def touch(self, key_id: str) -> None:
        """Record use (called at most about once a minute per key, see needs_touch)."""
        self._touched[key_id] = time.monotonic()
        with self._db.write() as conn:
            conn.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", (now_iso(), key_id))

    def for_tenant(self, tenant_id: str, user_id: str | None = None) -> list[ApiKeyRecord]:
        if user_id is None:
            return self._select("k.tenant_id = ?", (tenant_id,))
        return self._select("k.tenant_id = ? AND k.user_id = ?", (tenant_id, user_id))

    def revoke(self, key_id: str) -> ApiKeyRecord:
        """Revoke one key (idempotent); returns it as it is now."""
        with self._db.write() as conn:
            conn.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                (now_iso(), key_id),
            )
        return self.get(key_id)

    def revoke_member(self, tenant_id: str, user_id: str) -> int:
        """Revoke a user's keys for one tenant (when they leave it); returns how many."""
        with self._db.write() as conn:
            cur = conn.execute(
                "UPDATE api_keys SET revoked_at = ? "
                "WHERE tenant_id = ? AND user_id = ? AND revoked_at IS NULL",
                (now_iso(), tenant_id, user_id),
            )
            return int(cur.rowcount)

    def _select(self, where: str, params: tuple[Any, ...]) -> list[ApiKeyRecord]:
        with self._db.read() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM api_keys k JOIN users u ON u.id = k.user_id "
                f"WHERE {where} ORDER BY k.created_at DESC",
                params,
            ).fetchall()
        return [ApiKeyRecord(*row) for row in rows]
