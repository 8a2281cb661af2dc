"""Queue payloads about one document. Ids only, never content or secrets."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ParseTask:
    """Parse one received document of one tenant."""

    tenant_id: str
    document_id: str


@dataclass(frozen=True)
class IndexTask:
    """Index one parsed document of one tenant."""

    tenant_id: str
    document_id: str
