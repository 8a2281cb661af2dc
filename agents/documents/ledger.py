"""The per-tenant document ledger: every arrival recorded, each distinct content once.

State machine of a document:
    received -> parsing -> parsed -> indexing -> indexed
                   \\-> failed | unsupported        (indexing may also end in failed)
A row is durable (committed) before the source is acknowledged and before any task for
it is queued, so a crash anywhere leaves either nothing or a row the start-up
reconciler re-queues.
"""

import json
import re
import uuid
from collections.abc import Iterable
from typing import Any

import sqlcipher3

from agents.documents.claims import mark_claimed
from agents.documents.records import (
    COLUMNS,
    STATES,
    DocumentRecord,
    Received,
    record_from_row,
    sha256_of,
)
from agents.ingest.sandbox.document import ParsedDocument
from storage.blobs import BlobStore
from storage.clock import now_iso
from storage.database import Database
from storage.errors import NotFoundError
from storage.keyset import newest_first

_WORD = re.compile(r"\w+")
_MAX_MATCH_WORDS = 16


def _text_match(q: str) -> str | None:
    """An FTS5 query that every word of `q` must match (each quoted: no operators)."""
    words = list(dict.fromkeys(w.lower() for w in _WORD.findall(q)))[:_MAX_MATCH_WORDS]
    return " ".join(f'"{w}"' for w in words) or None


class DocumentLedger:
    """Reads and writes the ledger tables of one tenant database."""

    def __init__(self, db: Database, blobs: BlobStore) -> None:
        self.db = db
        self.blobs = blobs

    def receive(
        self,
        content: bytes,
        *,
        filename: str | None,
        source: str,
        source_ref: str | None = None,
        metadata: dict[str, Any] | None = None,
        parent_id: str | None = None,
        parsing: bool = False,
        digest: str | None = None,
    ) -> Received:
        """Record an arrival; new content gets a document row and an encrypted original.

        `parsing=True` records the row already in state `parsing` with its first attempt
        counted, for callers that parse at once (one commit fewer per document).
        `digest` is the content's sha256 when the caller has already computed it.
        """
        digest = digest or sha256_of(content)
        existing = self.find_by_hash(digest)
        if existing is not None:
            self._arrival(existing.id, source, source_ref, filename, "duplicate")
            return Received(existing, duplicate=True)
        blob_id = self.blobs.put(content)
        document_id = uuid.uuid4().hex
        now = now_iso()
        title = (metadata or {}).get("title") or filename or f"document {document_id[:8]}"
        row = (
            document_id,
            digest,
            str(title)[:300],
            filename,
            None,
            len(content),
            None,
            source,
            source_ref,
            parent_id,
            blob_id,
            "parsing" if parsing else "received",
            int(parsing),
            None,
            None,
            json.dumps(metadata or {}, sort_keys=True),
            now,
            now,
        )

        def insert(conn: Any) -> None:
            conn.execute(
                f"INSERT INTO documents ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                row,
            )
            self._arrival_in(conn, document_id, source, source_ref, filename, "added")
            if parsing:
                mark_claimed(conn, document_id)

        try:
            # arrivals from several threads (a batch, a busy API) share one durable commit
            self.db.write_together(insert)
        except sqlcipher3.IntegrityError:
            # the same content arrived concurrently and won the race
            self.blobs.delete(blob_id)
            winner = self.find_by_hash(digest)
            if winner is None:
                raise
            self._arrival(winner.id, source, source_ref, filename, "duplicate")
            return Received(winner, duplicate=True)
        # the row as committed, without reading it back
        return Received(record_from_row(row), duplicate=False)

    def record_failed_arrival(
        self, *, source: str, source_ref: str | None, filename: str | None, detail: str
    ) -> None:
        """An arrival refused before it became a document (e.g. over the size limit)."""
        self._arrival(None, source, source_ref, filename, "failed", detail)

    def _arrival(
        self,
        document_id: str | None,
        source: str,
        source_ref: str | None,
        filename: str | None,
        outcome: str,
        detail: str | None = None,
    ) -> None:
        with self.db.write() as conn:
            self._arrival_in(conn, document_id, source, source_ref, filename, outcome, detail)

    @staticmethod
    def _arrival_in(
        conn: Any,
        document_id: str | None,
        source: str,
        source_ref: str | None,
        filename: str | None,
        outcome: str,
        detail: str | None = None,
    ) -> None:
        conn.execute(
            "INSERT INTO arrivals (document_id, source, source_ref, filename, outcome, detail, "
            "received_at) VALUES (?,?,?,?,?,?,?)",
            (document_id, source, source_ref, filename, outcome, detail, now_iso()),
        )

    def find_by_hash(self, digest: str) -> DocumentRecord | None:
        with self.db.read() as conn:
            row = conn.execute(
                f"SELECT {COLUMNS} FROM documents WHERE sha256 = ?", (digest,)
            ).fetchone()
        return record_from_row(row) if row else None

    def get(self, document_id: str) -> DocumentRecord:
        with self.db.read() as conn:
            row = conn.execute(
                f"SELECT {COLUMNS} FROM documents WHERE id = ?", (document_id,)
            ).fetchone()
        if row is None:
            raise NotFoundError(f"no document {document_id}")
        return record_from_row(row)

    def set_state(self, document_id: str, state: str, *, count_attempt: bool = False) -> None:
        """Move the document on; reaching `indexed` clears a fault noted by `defer`."""
        cleared = ", error_code = NULL, error_message = NULL" if state == "indexed" else ""
        with self.db.write() as conn:
            conn.execute(
                f"UPDATE documents SET state = ?, attempts = attempts + ?, updated_at = ?{cleared} "
                "WHERE id = ?",
                (state, int(count_attempt), now_iso(), document_id),
            )

    def fail(self, document_id: str, code: str, message: str, *, unsupported: bool = False) -> None:
        with self.db.write() as conn:
            conn.execute(
                "UPDATE documents SET state = ?, error_code = ?, error_message = ?, updated_at = ? "
                "WHERE id = ?",
                (
                    "unsupported" if unsupported else "failed",
                    code,
                    message[:2000],
                    now_iso(),
                    document_id,
                ),
            )

    def defer(self, document_id: str, state: str, code: str, message: str) -> None:
        """A transient fault interrupted the document: back to `state` (received or
        parsed) with the fault noted, to be retried later; never a final state."""
        with self.db.write() as conn:
            conn.execute(
                "UPDATE documents SET state = ?, error_code = ?, error_message = ?, updated_at = ? "
                "WHERE id = ? AND state NOT IN ('indexed', 'failed', 'unsupported')",
                (state, code, message[:2000], now_iso(), document_id),
            )

    def save_parsed(
        self, document_id: str, parsed: ParsedDocument, record: DocumentRecord | None = None
    ) -> None:
        """Store text per page and metadata; the document moves to `parsed`.

        `record`: the document's row when the caller has it (saves reading it again)."""
        record = record if record is not None and record.id == document_id else None
        record = record or self.get(document_id)
        metadata = {**{k: v for k, v in parsed.metadata.items()}, **record.metadata}
        metadata["sections"] = [
            {"title": s.title, "level": s.level, "page": s.page, "offset": s.offset}
            for s in parsed.sections[:500]
        ]
        title = str(parsed.metadata.get("title") or "").strip() or record.title
        # derived from the durable original: if a power cut rolls this back, the document
        # is still `parsing` and the start-up reconciler parses it again
        update = (
            parsed.format,
            parsed.page_count,
            title[:300],
            json.dumps(metadata, default=str),
            now_iso(),
            document_id,
        )
        pages = [(document_id, page.number, page.text) for page in parsed.pages]

        def store(conn: Any) -> None:
            conn.execute("DELETE FROM document_pages WHERE document_id = ?", (document_id,))
            conn.executemany(
                "INSERT INTO document_pages (document_id, page, text) VALUES (?,?,?)", pages
            )
            conn.execute(
                "UPDATE documents SET state = 'parsed', format = ?, pages = ?, title = ?, "
                "metadata = ?, error_code = NULL, error_message = NULL, updated_at = ? "
                "WHERE id = ?",
                update,
            )

        self.db.write_together(store, durable=False)

    def pages(self, document_id: str) -> list[tuple[int, str]]:
        self.get(document_id)
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT page, text FROM document_pages WHERE document_id = ? ORDER BY page",
                (document_id,),
            ).fetchall()
        return [(int(r[0]), str(r[1])) for r in rows]

    def original(self, document_id: str) -> tuple[DocumentRecord, bytes]:
        record = self.get(document_id)
        if record.blob_id is None:
            raise NotFoundError(f"document {document_id} has no stored original")
        return record, self.blobs.get(record.blob_id)

    def delete(self, document_id: str) -> list[str]:
        """Remove a document, its children, text and originals; returns the ids removed."""
        record = self.get(document_id)
        with self.db.read() as conn:
            children = [
                r[0]
                for r in conn.execute(
                    "SELECT id FROM documents WHERE parent_id = ?", (document_id,)
                )
            ]
        removed: list[str] = []
        for child in children:
            removed += self.delete(child)
        with self.db.write() as conn:
            conn.execute("DELETE FROM documents WHERE id = ?", (document_id,))
        if record.blob_id:
            self.blobs.delete(record.blob_id)
        return [*removed, document_id]

    def list_documents(
        self,
        *,
        state: str | None = None,
        source: str | None = None,
        fmt: str | None = None,
        q: str | None = None,
        text: str | None = None,
        tag: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> tuple[list[DocumentRecord], str | None]:
        """Newest first, keyset-paged: the cursor is the last row's (created_at, id).

        `q` is part of the title or file name; `text`, words that must all stand in one
        passage of an indexed document's text; `tag`, a tag the document carries.
        """
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (("state", state), ("source", source), ("format", fmt)):
            if value:
                clauses.append(f"{column} = ?")
                params.append(value)
        if q:
            clauses.append("(title LIKE ? ESCAPE '\\' OR filename LIKE ? ESCAPE '\\')")
            pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            params += [pattern, pattern]
        words = _text_match(text) if text else None
        if words:
            # the text of indexed documents, through the keyword index of their chunks
            clauses.append(
                "id IN (SELECT c.document_id FROM chunks_fts JOIN chunks c "
                "ON c.id = chunks_fts.rowid WHERE chunks_fts MATCH ?)"
            )
            params.append(words)
        if tag:
            clauses.append("id IN (SELECT document_id FROM document_tags WHERE tag = ?)")
            params.append(tag)
        return newest_first(
            self.db,
            f"SELECT {COLUMNS} FROM documents",
            record_from_row,
            clauses=clauses,
            params=params,
            limit=limit,
            cursor=cursor,
        )

    def unfinished(self) -> list[DocumentRecord]:
        """Documents a crash may have left mid-way, oldest first, for re-queueing."""
        with self.db.read() as conn:
            rows = conn.execute(
                f"SELECT {COLUMNS} FROM documents WHERE state IN "
                "('received', 'parsing', 'parsed', 'indexing') ORDER BY created_at"
            ).fetchall()
        return [record_from_row(r) for r in rows]

    def counts_by_state(self) -> dict[str, int]:
        with self.db.read() as conn:
            rows = conn.execute("SELECT state, count(*) FROM documents GROUP BY state").fetchall()
        counts = dict.fromkeys(STATES, 0)
        counts.update({str(r[0]): int(r[1]) for r in rows})
        return counts

    def arrivals_for(self, source: str, source_ref: str) -> Iterable[tuple[str | None, str]]:
        with self.db.read() as conn:
            return [
                (r[0], r[1])
                for r in conn.execute(
                    "SELECT document_id, outcome FROM arrivals WHERE source = ? AND source_ref = ?",
                    (source, source_ref),
                )
            ]
