"""Keyset paging, newest first, over a table with `created_at` and `id` columns.

The cursor carries the last row's (created_at, id), opaque to clients (URL-safe base64
of a JSON pair): a page is read along the index whatever its depth, and rows added
meanwhile never shift a page (unlike OFFSET). A cursor this module did not write is
refused (400 `invalid_cursor`).
"""

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from storage.database import Database
from storage.errors import StorageError


class InvalidCursorError(StorageError):
    """A listing's cursor is not one this appliance handed out."""

    status_code = 400
    code = "invalid_cursor"


class Keyed(Protocol):
    @property
    def created_at(self) -> str: ...

    @property
    def id(self) -> str: ...


RecordT = TypeVar("RecordT", bound=Keyed)


def newest_first(
    db: Database,
    select: str,
    convert: Callable[[Any], RecordT],
    *,
    clauses: Sequence[str] = (),
    params: Sequence[Any] = (),
    limit: int,
    cursor: str | None,
) -> tuple[list[RecordT], str | None]:
    """Up to `limit` rows of `select` ("SELECT <columns> FROM <table>") meeting every
    clause, newest first, after `cursor`; and the next page's cursor (None on the last)."""
    where, values = list(clauses), list(params)
    if cursor:
        created, last_id = decode_cursor(cursor)
        where.append("(created_at < ? OR (created_at = ? AND id < ?))")
        values += [created, created, last_id]
    condition = f" WHERE {' AND '.join(where)}" if where else ""
    with db.read() as conn:
        rows = conn.execute(
            f"{select}{condition} ORDER BY created_at DESC, id DESC LIMIT ?",
            [*values, limit + 1],
        ).fetchall()
    records = [convert(row) for row in rows[:limit]]
    following = None
    if len(rows) > limit and records:
        following = encode_cursor(records[-1].created_at, records[-1].id)
    return records, following


def encode_cursor(created_at: str, row_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([created_at, row_id]).encode()).decode()


def decode_cursor(cursor: str) -> tuple[str, str]:
    """The (created_at, id) pair of a cursor `encode_cursor` wrote."""
    try:
        created_at, row_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as error:
        raise InvalidCursorError("The cursor is not valid.") from error
    if not isinstance(created_at, str) or not isinstance(row_id, str):
        raise InvalidCursorError("The cursor is not valid.")
    return created_at, row_id
