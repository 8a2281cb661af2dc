"""Reads and writes of `system.db` rows: tenants, users, memberships, audit, secrets."""

import json
import uuid
from typing import Any

import sqlcipher3

from storage.clock import now_iso
from storage.commit_cache import CacheView, CommitAwareCache
from storage.database import Database
from storage.errors import ConflictError, NotFoundError
from storage.records import AuditRecord, MembershipRecord, TenantRecord, UserRecord

ROLES = ("viewer", "editor", "owner")


def _tenant(row: Any) -> TenantRecord:
    return TenantRecord(id=row[0], slug=row[1], name=row[2], created_at=row[3])


def _user(row: Any) -> UserRecord:
    return UserRecord(
        id=row[0],
        username=row[1],
        password_hash=row[2],
        is_admin=bool(row[3]),
        token_version=int(row[4]),
        disabled=bool(row[5]),
        created_at=row[6],
    )


_USER_COLUMNS = "id, username, password_hash, is_admin, token_version, disabled, created_at"


class SystemStore:
    """Repository over the system database; its only state is a cache that empties
    itself on every commit to the file (see storage.commit_cache)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._hot = CommitAwareCache(db)

    def close(self) -> None:
        self._hot.close()

    # tenants -------------------------------------------------------------
    def insert_tenant(
        self, slug: str, name: str, wrapped_key: bytes, tenant_id: str
    ) -> TenantRecord:
        created = now_iso()
        try:
            with self.db.write() as conn:
                conn.execute(
                    "INSERT INTO tenants (id, slug, name, wrapped_key, created_at) "
                    "VALUES (?,?,?,?,?)",
                    (tenant_id, slug, name, wrapped_key, created),
                )
        except sqlcipher3.IntegrityError as exc:
            raise ConflictError(f"tenant {slug!r} already exists") from exc
        return TenantRecord(tenant_id, slug, name, created)

    def list_tenants(self) -> list[TenantRecord]:
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT id, slug, name, created_at FROM tenants ORDER BY slug"
            ).fetchall()
        return [_tenant(r) for r in rows]

    def find_tenant(self, ref: str) -> TenantRecord:
        """Look a tenant up by slug or id."""
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT id, slug, name, created_at FROM tenants WHERE slug = ? OR id = ?",
                (ref, ref),
            ).fetchone()
        if row is None:
            raise NotFoundError(f"no tenant {ref!r}")
        return _tenant(row)

    def tenant_and_role(self, ref: str, user_id: str) -> tuple[TenantRecord, str | None]:
        """A tenant by slug or id, and the user's role in it (None: not a member).

        Every tenant API request asks this; answered from the commit-aware cache."""
        return self.lookups().tenant_and_role(ref, user_id)

    def lookups(self) -> "SystemLookups":
        """The per-request lookups (user, tenant and role) behind one check for changes."""
        return SystemLookups(self, self._hot.view())

    def _read_tenant_and_role(
        self, ref: str, user_id: str
    ) -> tuple[TenantRecord, str | None] | None:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT t.id, t.slug, t.name, t.created_at, m.role FROM tenants AS t "
                "LEFT JOIN memberships AS m ON m.tenant_id = t.id AND m.user_id = ? "
                "WHERE t.slug = ? OR t.id = ?",
                (user_id, ref, ref),
            ).fetchone()
        return (_tenant(row[:4]), row[4]) if row is not None else None

    def wrapped_keys(self) -> list[tuple[str, bytes]]:
        with self.db.read() as conn:
            return [
                (r[0], bytes(r[1])) for r in conn.execute("SELECT id, wrapped_key FROM tenants")
            ]

    def wrapped_key(self, tenant_id: str) -> bytes:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT wrapped_key FROM tenants WHERE id = ?", (tenant_id,)
            ).fetchone()
        if row is None:
            raise NotFoundError(f"no tenant {tenant_id!r}")
        return bytes(row[0])

    def replace_wrapped_keys(self, conn: Any, wrapped: dict[str, bytes]) -> None:
        """Inside the caller's transaction: store re-wrapped tenant keys."""
        for tenant_id, blob in wrapped.items():
            conn.execute("UPDATE tenants SET wrapped_key = ? WHERE id = ?", (blob, tenant_id))

    def delete_tenant_row(self, tenant_id: str) -> None:
        with self.db.write() as conn:
            conn.execute("DELETE FROM tenants WHERE id = ?", (tenant_id,))

    # users ---------------------------------------------------------------
    def insert_user(self, username: str, password_hash: str, is_admin: bool) -> UserRecord:
        user_id = uuid.uuid4().hex
        created = now_iso()
        try:
            with self.db.write() as conn:
                conn.execute(
                    "INSERT INTO users (id, username, password_hash, is_admin, token_version, "
                    "disabled, created_at, updated_at) VALUES (?,?,?,?,0,0,?,?)",
                    (user_id, username, password_hash, int(is_admin), created, created),
                )
        except sqlcipher3.IntegrityError as exc:
            raise ConflictError(f"user {username!r} already exists") from exc
        return UserRecord(user_id, username, password_hash, is_admin, 0, False, created)

    def find_user(self, ref: str) -> UserRecord:
        """Look a user up by username (case-insensitive) or id."""
        with self.db.read() as conn:
            row = conn.execute(
                f"SELECT {_USER_COLUMNS} FROM users WHERE username = ? COLLATE NOCASE OR id = ?",
                (ref, ref),
            ).fetchone()
        if row is None:
            raise NotFoundError(f"no user {ref!r}")
        return _user(row)

    def get_user(self, user_id: str) -> UserRecord | None:
        """The user with this id, or None; every authenticated request asks this."""
        return self.lookups().get_user(user_id)

    def _read_user(self, user_id: str) -> UserRecord | None:
        with self.db.read() as conn:
            row = conn.execute(
                f"SELECT {_USER_COLUMNS} FROM users WHERE id = ?", (user_id,)
            ).fetchone()
        return _user(row) if row else None

    def list_users(self) -> list[UserRecord]:
        with self.db.read() as conn:
            rows = conn.execute(f"SELECT {_USER_COLUMNS} FROM users ORDER BY username").fetchall()
        return [_user(r) for r in rows]

    def set_password_hash(self, user_id: str, password_hash: str, bump_token_version: bool) -> None:
        with self.db.write() as conn:
            conn.execute(
                "UPDATE users SET password_hash = ?, updated_at = ?, "
                "token_version = token_version + ? WHERE id = ?",
                (password_hash, now_iso(), int(bump_token_version), user_id),
            )

    def bump_token_version(self, user_id: str) -> None:
        with self.db.write() as conn:
            conn.execute(
                "UPDATE users SET token_version = token_version + 1, updated_at = ? WHERE id = ?",
                (now_iso(), user_id),
            )

    def set_disabled(self, user_id: str, disabled: bool) -> None:
        """Disable or enable an account; either way its tokens are outdated."""
        with self.db.write() as conn:
            conn.execute(
                "UPDATE users SET disabled = ?, token_version = token_version + 1, "
                "updated_at = ? WHERE id = ?",
                (int(disabled), now_iso(), user_id),
            )

    def delete_user(self, user_id: str) -> None:
        with self.db.write() as conn:
            conn.execute("DELETE FROM users WHERE id = ?", (user_id,))

    # memberships ---------------------------------------------------------
    def set_membership(self, tenant_id: str, user_id: str, role: str) -> None:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES (?,?,?,?) "
                "ON CONFLICT (tenant_id, user_id) DO UPDATE SET role = excluded.role",
                (tenant_id, user_id, role, now_iso()),
            )

    def remove_membership(self, tenant_id: str, user_id: str) -> bool:
        with self.db.write() as conn:
            cur = conn.execute(
                "DELETE FROM memberships WHERE tenant_id = ? AND user_id = ?", (tenant_id, user_id)
            )
            return bool(cur.rowcount)

    def role_of(self, tenant_id: str, user_id: str) -> str | None:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT role FROM memberships WHERE tenant_id = ? AND user_id = ?",
                (tenant_id, user_id),
            ).fetchone()
        return row[0] if row else None

    def memberships(
        self, *, tenant_id: str | None = None, user_id: str | None = None
    ) -> list[MembershipRecord]:
        clauses: list[str] = []
        params: list[Any] = []
        if tenant_id is not None:
            clauses.append("m.tenant_id = ?")
            params.append(tenant_id)
        if user_id is not None:
            clauses.append("m.user_id = ?")
            params.append(user_id)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT m.tenant_id, t.slug, m.user_id, u.username, m.role, m.created_at "
                "FROM memberships m JOIN tenants t ON t.id = m.tenant_id "
                f"JOIN users u ON u.id = m.user_id {where} ORDER BY t.slug, u.username",
                params,
            ).fetchall()
        return [MembershipRecord(*r) for r in rows]

    # secrets -------------------------------------------------------------
    def get_secret(self, name: str) -> bytes | None:
        with self.db.read() as conn:
            row = conn.execute("SELECT wrapped FROM secrets WHERE name = ?", (name,)).fetchone()
        return bytes(row[0]) if row else None

    def put_secret(self, name: str, wrapped: bytes) -> None:
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO secrets (name, wrapped, created_at) VALUES (?,?,?) "
                "ON CONFLICT (name) DO UPDATE SET wrapped = excluded.wrapped",
                (name, wrapped, now_iso()),
            )

    def all_secrets(self) -> list[tuple[str, bytes]]:
        with self.db.read() as conn:
            return [(r[0], bytes(r[1])) for r in conn.execute("SELECT name, wrapped FROM secrets")]

    # audit ---------------------------------------------------------------
    def audit(
        self,
        action: str,
        *,
        actor: str | None = None,
        tenant_id: str | None = None,
        target: str | None = None,
        client: str | None = None,
        outcome: str = "ok",
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Append one audit entry; callers must never pass secrets in `detail`."""
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO audit_log "
                "(at, actor, action, tenant_id, target, client, outcome, detail) "
                "VALUES (?,?,?,?,?,?,?,?)",
                (
                    now_iso(),
                    actor,
                    action,
                    tenant_id,
                    target,
                    client,
                    outcome,
                    json.dumps(detail, sort_keys=True) if detail else None,
                ),
            )

    def audit_entries(
        self, *, tenant_id: str | None = None, limit: int = 100, before_id: int | None = None
    ) -> list[AuditRecord]:
        clauses: list[str] = []
        params: list[Any] = []
        if tenant_id is not None:
            clauses.append("tenant_id = ?")
            params.append(tenant_id)
        if before_id is not None:
            clauses.append("id < ?")
            params.append(before_id)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT id, at, actor, action, tenant_id, target, client, outcome, detail "
                f"FROM audit_log {where} ORDER BY id DESC LIMIT ?",
                [*params, limit],
            ).fetchall()
        return [AuditRecord(*r) for r in rows]


class SystemLookups:
    """The hot lookups of one request, answered from the commit-aware cache as it was
    when this object was made: one `data_version` check for all of them."""

    __slots__ = ("_store", "_view")

    def __init__(self, store: SystemStore, view: CacheView) -> None:
        self._store = store
        self._view = view

    def get_user(self, user_id: str) -> UserRecord | None:
        """The user with this id, or None."""
        store = self._store
        return self._view.get(("user", user_id), lambda: store._read_user(user_id))

    def tenant_and_role(self, ref: str, user_id: str) -> tuple[TenantRecord, str | None]:
        """A tenant by slug or id and the user's role in it; NotFoundError if no tenant."""
        store = self._store
        found = self._view.get(
            ("tenant_role", ref, user_id), lambda: store._read_tenant_and_role(ref, user_id)
        )
        if found is None:
            raise NotFoundError(f"no tenant {ref!r}")
        return found
