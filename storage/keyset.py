"""Keyset paging, newest first, over a table with `created_at` and `id` columns.

The cursor is the last row's `created_at|id`: a page is read along the index whatever
its depth, and rows added meanwhile never shift a page (unlike OFFSET).
"""

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from storage.database import Database


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
        created, _, last_id = cursor.partition("|")
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
        following = f"{records[-1].created_at}|{records[-1].id}"
    return records, following
