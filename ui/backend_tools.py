"""More of what the pages need from the appliance (see ui/backend.py): tags, several
documents at once, the model's work on one document, the Ask history, and testing a
mailbox before saving it. Kept apart so each file stays small; UiBackend includes them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from agents.analyze.conversations import SavedTurn

if TYPE_CHECKING:  # ui.backend imports this module to build UiBackend
    from ui.backend import TestOutcome


class DocumentToolsBackend(Protocol):
    """Tags and bulk deletion (editors), summarize / classify / extract (any member)."""

    def tags_of(
        self, token: str | None, tenant_id: str, document_ids: list[str]
    ) -> dict[str, list[str]]: ...

    def all_tags(self, token: str | None, tenant_id: str) -> list[tuple[str, int]]: ...

    def change_tags(
        self,
        token: str | None,
        tenant_id: str,
        document_ids: list[str],
        add: list[str],
        remove: list[str],
    ) -> None: ...

    def delete_documents(
        self, token: str | None, tenant_id: str, document_ids: list[str]
    ) -> int: ...

    def language_model_available(self) -> bool: ...

    def summarize_document(self, token: str | None, tenant_id: str, document_id: str) -> str: ...

    def classify_document(
        self, token: str | None, tenant_id: str, document_id: str, labels: list[str]
    ) -> str: ...

    def extract_fields(
        self, token: str | None, tenant_id: str, document_id: str, fields: list[str]
    ) -> dict[str, Any]: ...


class ConversationBackend(Protocol):
    """The signed-in user's own recent questions and answers in one tenant."""

    def history(self, token: str | None, tenant_id: str, limit: int = 20) -> list[SavedTurn]: ...

    def save_turn(
        self,
        token: str | None,
        tenant_id: str,
        question: str,
        answer: str,
        citations: list[dict[str, Any]],
        scope: list[str],
        no_answer: bool,
    ) -> int: ...

    def delete_turn(self, token: str | None, tenant_id: str, turn_id: int) -> None: ...

    def clear_history(self, token: str | None, tenant_id: str) -> int: ...


class MailboxCheckBackend(Protocol):
    def test_mailbox_settings(
        self,
        token: str | None,
        tenant_id: str,
        connector_id: str | None,
        fields: dict[str, Any],
        password: str | None,
    ) -> TestOutcome: ...
