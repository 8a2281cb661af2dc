"""Keeping a WAL file within its bound: fold it back (TRUNCATE) after a commit that left
it larger.

SQLite's automatic checkpoint copies pages back but never shrinks the file, and stops
short while readers hold old snapshots; on a nearly full disk the WAL then eats the space
a delete just freed. A checkpoint that cannot finish (readers, a full disk) is harmless:
it gives up at once and the next commit tries again.
"""

import logging
import os
from typing import Any

import sqlcipher3

log = logging.getLogger("appliance.storage")


def fold_wal_if_over(conn: Any, database_path: str, limit_bytes: int, label: str) -> None:
    """Checkpoint with TRUNCATE through `conn` when `<database_path>-wal` is over the
    limit (0: no bound)."""
    if limit_bytes <= 0:
        return
    try:
        size = os.stat(f"{database_path}-wal").st_size
    except OSError:
        return
    if size <= limit_bytes:
        return
    # never wait for readers here: that would stall the commit that just finished by the
    # whole busy timeout; while one reads, the checkpoint gives up and the next one tries
    waited = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    try:
        conn.execute("PRAGMA busy_timeout = 0").fetchall()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    except sqlcipher3.Error as exc:
        log.debug("%s: WAL checkpoint deferred (%s)", label, exc)
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(waited)}").fetchall()
