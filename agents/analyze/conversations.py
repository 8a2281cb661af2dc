"""Each user's recent questions and answers (the Ask page's history), in the tenant
database (tenant migration 10). Only the newest `keep` turns per user are kept; the user
deletes one turn or all of theirs."""

import json
from dataclasses import dataclass, field
from typing import Any

from storage.clock import now_iso
from storage.database import Database
from storage.errors import NotFoundError

KEEP_TURNS = 100
MAX_CITATIONS = 20


@dataclass(frozen=True)
class SavedTurn:
    """One stored question with its final answer and the documents it was asked about."""

    id: int
    question: str
    answer: str
    citations: list[dict[str, Any]] = field(default_factory=list)
    scope: list[str] = field(default_factory=list)
    no_answer: bool = False
    asked_at: str = ""


class ConversationHistory:
    """The conversation turns of one tenant, per user id."""

    def __init__(self, db: Database, keep: int = KEEP_TURNS) -> None:
        self.db = db
        self.keep = keep

    def add(
        self,
        user_id: str,
        question: str,
        answer: str,
        citations: list[dict[str, Any]],
        scope: list[str],
        no_answer: bool,
    ) -> int:
        """Store a finished turn and drop this user's turns beyond the newest `keep`."""
        with self.db.write() as conn:
            cursor = conn.execute(
                "INSERT INTO conversation_turns (user_id, question, answer, citations, scope, "
                "no_answer, asked_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    user_id,
                    question,
                    answer,
                    json.dumps(citations[:MAX_CITATIONS]),
                    json.dumps(scope),
                    int(no_answer),
                    now_iso(),
                ),
            )
            conn.execute(
                "DELETE FROM conversation_turns WHERE user_id = ? AND id NOT IN "
                "(SELECT id FROM conversation_turns WHERE user_id = ? ORDER BY id DESC LIMIT ?)",
                (user_id, user_id, self.keep),
            )
            return int(cursor.lastrowid)

    def recent(self, user_id: str, limit: int = 20) -> list[SavedTurn]:
        """This user's newest turns, oldest of them first (the order they were asked)."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT id, question, answer, citations, scope, no_answer, asked_at "
                "FROM conversation_turns WHERE user_id = ? ORDER BY id DESC LIMIT ?",
                (user_id, max(1, min(limit, self.keep))),
            ).fetchall()
        return [
            SavedTurn(
                id=int(r[0]),
                question=str(r[1]),
                answer=str(r[2]),
                citations=list(json.loads(r[3])),
                scope=list(json.loads(r[4])),
                no_answer=bool(r[5]),
                asked_at=str(r[6]),
            )
            for r in reversed(rows)
        ]

    def delete(self, user_id: str, turn_id: int) -> None:
        """Remove one of this user's turns (another user's id is 'not found')."""
        with self.db.write() as conn:
            cursor = conn.execute(
                "DELETE FROM conversation_turns WHERE id = ? AND user_id = ?", (turn_id, user_id)
            )
            if cursor.rowcount == 0:
                raise NotFoundError(f"no conversation turn {turn_id}")

    def clear(self, user_id: str) -> int:
        """Remove all of this user's turns; how many there were."""
        with self.db.write() as conn:
            cursor = conn.execute("DELETE FROM conversation_turns WHERE user_id = ?", (user_id,))
            return int(cursor.rowcount)
