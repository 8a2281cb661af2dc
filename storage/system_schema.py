"""Schema of `system.db`: tenants, users, memberships, credentials, audit log."""

from typing import Any

import sqlite_utils

from storage.migrations import MigrationSet

system_migrations = MigrationSet("system")


@system_migrations(1)
def create_core_tables(conn: Any) -> None:
    db = sqlite_utils.Database(conn)
    db.table("tenants").create(
        {"id": str, "slug": str, "name": str, "wrapped_key": bytes, "created_at": str},
        pk="id",
        not_null={"slug", "name", "wrapped_key", "created_at"},
    )
    db.table("tenants").create_index(["slug"], unique=True)
    db.table("users").create(
        {
            "id": str,
            "username": str,
            "password_hash": str,
            "is_admin": int,
            "token_version": int,
            "disabled": int,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"username", "password_hash", "created_at"},
        defaults={"is_admin": 0, "token_version": 0, "disabled": 0},
    )
    conn.execute("CREATE UNIQUE INDEX idx_users_username ON users(username COLLATE NOCASE)")
    conn.execute(
        """CREATE TABLE memberships (
            tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
            user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
            created_at TEXT NOT NULL,
            PRIMARY KEY (tenant_id, user_id))"""
    )
    conn.execute(
        """CREATE TABLE secrets (
            name TEXT PRIMARY KEY,
            wrapped BLOB NOT NULL,
            created_at TEXT NOT NULL)"""
    )
    conn.execute(
        """CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            actor TEXT,
            action TEXT NOT NULL,
            tenant_id TEXT,
            target TEXT,
            client TEXT,
            outcome TEXT NOT NULL DEFAULT 'ok',
            detail TEXT)"""
    )
    conn.execute("CREATE INDEX idx_audit_tenant ON audit_log(tenant_id, id)")


@system_migrations(2)
def create_credential_tables(conn: Any) -> None:
    conn.execute(
        """CREATE TABLE sessions (
            id_hash TEXT PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            csrf_token TEXT NOT NULL,
            created_at REAL NOT NULL,
            last_seen_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            client TEXT)"""
    )
    conn.execute("CREATE INDEX idx_sessions_user ON sessions(user_id)")
    conn.execute(
        """CREATE TABLE refresh_tokens (
            token_hash TEXT PRIMARY KEY,
            family_id TEXT NOT NULL,
            user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            issued_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            used_at REAL,
            revoked_at REAL)"""
    )
    conn.execute("CREATE INDEX idx_refresh_family ON refresh_tokens(family_id)")
    conn.execute("CREATE INDEX idx_refresh_user ON refresh_tokens(user_id)")
    conn.execute(
        """CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            key_hash TEXT NOT NULL UNIQUE,
            prefix TEXT NOT NULL,
            name TEXT NOT NULL,
            tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
            user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
            created_at TEXT NOT NULL,
            expires_at REAL,
            revoked_at TEXT,
            last_used_at TEXT)"""
    )
    conn.execute("CREATE INDEX idx_api_keys_tenant ON api_keys(tenant_id)")
    conn.execute(
        """CREATE TABLE login_failures (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            username TEXT NOT NULL,
            client TEXT NOT NULL,
            at REAL NOT NULL)"""
    )
    conn.execute("CREATE INDEX idx_login_failures_user ON login_failures(username, at)")
    conn.execute("CREATE INDEX idx_login_failures_client ON login_failures(client, at)")
