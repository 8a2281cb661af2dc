"""The reference for `bench api`: plain Litestar + sqlcipher3 doing the listing's work.

Run as `python -m bench.bare_app PORT DB_PATH` with the tenant database's raw key in
hex on stdin. It serves GET /api/v1/tenants/{tenant}/documents from the same encrypted
tenant database with the same query and the same JSON, written the direct way: one
connection, the handler on the event loop, no authentication, no tenant guard, no
middleware. What the appliance spends beyond this is the cost of its own layers.
"""

import json
import sys
from pathlib import Path
from typing import Any

import sqlcipher3
import uvicorn
from litestar import Litestar, get
from litestar.params import FromPath, FromQuery

from storage.crypto import CIPHER_SETTINGS

LISTING = (
    "SELECT id, sha256, title, filename, format, size, pages, source, source_ref, parent_id, "
    "state, attempts, error_code, error_message, metadata, created_at, updated_at "
    "FROM documents ORDER BY created_at DESC, id DESC LIMIT ?"
)


def _item(row: tuple[Any, ...]) -> dict[str, Any]:
    (
        doc_id,
        sha256,
        title,
        filename,
        fmt,
        size,
        pages,
        source,
        source_ref,
        parent_id,
        state,
        attempts,
        error_code,
        error_message,
        metadata,
        created_at,
        updated_at,
    ) = row
    return {
        "id": doc_id,
        "title": title,
        "filename": filename,
        "type": fmt,
        "size": size,
        "pages": pages,
        "source": source,
        "source_ref": source_ref,
        "parent_id": parent_id,
        "sha256": sha256,
        "state": state,
        "attempts": attempts,
        "error": {"code": error_code, "message": error_message} if error_code else None,
        "metadata": json.loads(metadata or "{}"),
        "created_at": created_at,
        "updated_at": updated_at,
    }


def build(db_path: Path, key_hex: str) -> Litestar:
    """The bare app over one tenant database file."""
    conn = sqlcipher3.connect(str(db_path), check_same_thread=False)
    conn.execute(f"PRAGMA key = \"x'{key_hex}'\"")
    # the appliance's file format: the raw library must be told it like any other reader
    for pragma in CIPHER_SETTINGS:
        conn.execute(pragma)
    conn.execute("PRAGMA query_only = ON")

    @get("/api/v1/tenants/{tenant:str}/documents", sync_to_thread=False)
    def documents(tenant: FromPath[str], limit: FromQuery[int] = 20) -> dict[str, Any]:
        rows = conn.execute(LISTING, (limit + 1,)).fetchall()
        items = [_item(row) for row in rows[:limit]]
        more = len(rows) > limit and items
        cursor = f"{items[-1]['created_at']}|{items[-1]['id']}" if more else None
        return {"items": items, "next_cursor": cursor}

    return Litestar(route_handlers=[documents], on_shutdown=[conn.close])


def main() -> None:
    port, db_path = int(sys.argv[1]), Path(sys.argv[2])
    key_hex = sys.stdin.readline().strip()
    uvicorn.run(
        build(db_path, key_hex), host="127.0.0.1", port=port, log_config=None, access_log=False
    )


if __name__ == "__main__":
    main()
