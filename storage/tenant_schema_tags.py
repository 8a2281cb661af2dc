"""Tenant migration 10: document tags and each user's recent questions and answers.

Kept apart from `tenant_schema.py` (which imports this module last) so that file stays
within the size rule; both register on the same `tenant_migrations` set.
"""

from typing import Any

from storage.tenant_schema import tenant_migrations


@tenant_migrations(10)
def create_tags_and_conversations(conn: Any) -> None:
    # a tag is a short label an editor puts on documents; removed with its document
    conn.execute(
        """CREATE TABLE document_tags (
            document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            tag TEXT NOT NULL,
            added_at TEXT NOT NULL,
            PRIMARY KEY (document_id, tag))"""
    )
    conn.execute("CREATE INDEX idx_document_tags_tag ON document_tags(tag, document_id)")
    # the Ask page's history: per user (system user id), newest kept, the user deletes them
    conn.execute(
        """CREATE TABLE conversation_turns (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id TEXT NOT NULL,
            question TEXT NOT NULL,
            answer TEXT NOT NULL,
            citations TEXT NOT NULL DEFAULT '[]',
            scope TEXT NOT NULL DEFAULT '[]',
            no_answer INTEGER NOT NULL DEFAULT 0,
            asked_at TEXT NOT NULL)"""
    )
    conn.execute("CREATE INDEX idx_conversation_user ON conversation_turns(user_id, id)")
