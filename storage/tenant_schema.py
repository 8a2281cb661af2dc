"""Schema of each `tenant.db`. Later features add their tables as new versions."""

from typing import Any

from storage.migrations import MigrationSet

tenant_migrations = MigrationSet("tenant")


@tenant_migrations(1)
def create_settings_table(conn: Any) -> None:
    conn.execute(
        """CREATE TABLE tenant_settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at TEXT NOT NULL)"""
    )
