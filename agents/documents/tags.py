"""Tags on documents: short labels editors add and remove, one row per (document, tag).

Stored in the tenant database (tenant migration 10); a document's tags go with it.
"""

import re
from collections.abc import Iterable

from storage.clock import now_iso
from storage.database import Database
from storage.errors import ApplianceError, NotFoundError

MAX_TAG_CHARS = 40
# no C0/C1 controls, bidi controls or line/paragraph separators (as the API's names),
# and at least one character that is not a space; the API publishes this pattern
_FORBIDDEN = (
    "\\x00-\\x1f\\x7f-\\x9f\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069"
)
TAG_PATTERN = f"^[^{_FORBIDDEN}]*[^{_FORBIDDEN}\\s][^{_FORBIDDEN}]*$"
MAX_TAGS_PER_CALL = 20
MAX_DOCUMENTS_PER_CALL = 500


class InvalidTagError(ApplianceError):
    """A tag that is empty, too long or holds control characters."""

    status_code = 422
    code = "invalid_tag"


def clean_tag(tag: str) -> str:
    """A tag as stored: spaces collapsed, lower case; refused when longer than
    `MAX_TAG_CHARS`, only spaces, or holding control characters (`TAG_PATTERN`)."""
    text = str(tag)
    if len(text) > MAX_TAG_CHARS:
        raise InvalidTagError(f"a tag has 1-{MAX_TAG_CHARS} characters")
    if re.fullmatch(TAG_PATTERN, text) is None:
        raise InvalidTagError(
            "a tag needs a character other than a space, and no control characters"
        )
    return " ".join(text.split()).lower()


def _check_size(ids: list[str], names: list[str]) -> None:
    if not names:
        raise InvalidTagError("name at least one tag")
    if len(ids) > MAX_DOCUMENTS_PER_CALL or len(names) > MAX_TAGS_PER_CALL:
        raise InvalidTagError(
            f"at most {MAX_DOCUMENTS_PER_CALL} documents and {MAX_TAGS_PER_CALL} tags at once"
        )


class DocumentTags:
    """The tags of one tenant's documents."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, document_ids: Iterable[str], tags: Iterable[str]) -> int:
        """Put every tag on every document (existing pairs stay); the number of new pairs.
        An unknown document id is a NotFoundError and nothing is changed."""
        ids = list(dict.fromkeys(document_ids))
        names = list(dict.fromkeys(clean_tag(t) for t in tags))
        _check_size(ids, names)
        at = now_iso()
        added = 0
        with self.db.write() as conn:
            self._check_exist(conn, ids)
            for document_id in ids:
                for name in names:
                    cursor = conn.execute(
                        "INSERT OR IGNORE INTO document_tags (document_id, tag, added_at) "
                        "VALUES (?, ?, ?)",
                        (document_id, name, at),
                    )
                    added += cursor.rowcount
        return added

    def remove(self, document_ids: Iterable[str], tags: Iterable[str]) -> int:
        """Take the tags off the documents; the number of pairs removed."""
        ids = list(dict.fromkeys(document_ids))
        names = list(dict.fromkeys(clean_tag(t) for t in tags))
        _check_size(ids, names)
        removed = 0
        with self.db.write() as conn:
            self._check_exist(conn, ids)
            for document_id in ids:
                for name in names:
                    cursor = conn.execute(
                        "DELETE FROM document_tags WHERE document_id = ? AND tag = ?",
                        (document_id, name),
                    )
                    removed += cursor.rowcount
        return removed

    def of(self, document_ids: Iterable[str]) -> dict[str, list[str]]:
        """Tags per document id (ids without tags are left out), each list sorted."""
        ids = list(dict.fromkeys(document_ids))
        found: dict[str, list[str]] = {}
        with self.db.read() as conn:
            for start in range(0, len(ids), 500):
                part = ids[start : start + 500]
                marks = ",".join("?" * len(part))
                rows = conn.execute(
                    f"SELECT document_id, tag FROM document_tags WHERE document_id IN ({marks}) "
                    "ORDER BY tag",
                    part,
                ).fetchall()
                for document_id, tag in rows:
                    found.setdefault(str(document_id), []).append(str(tag))
        return found

    def all_tags(self) -> list[tuple[str, int]]:
        """Every tag in use with its number of documents, by name."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT tag, count(*) FROM document_tags GROUP BY tag ORDER BY tag"
            ).fetchall()
        return [(str(tag), int(count)) for tag, count in rows]

    def tagged(self, tag: str) -> set[str]:
        """Ids of the documents carrying `tag`."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT document_id FROM document_tags WHERE tag = ?", (clean_tag(tag),)
            ).fetchall()
        return {str(r[0]) for r in rows}

    @staticmethod
    def _check_exist(conn: object, ids: list[str]) -> None:
        for document_id in ids:
            row = conn.execute(  # type: ignore[attr-defined]
                "SELECT 1 FROM documents WHERE id = ?", (document_id,)
            ).fetchone()
            if row is None:
                raise NotFoundError(f"no document {document_id}")
