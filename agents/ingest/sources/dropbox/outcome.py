"""What a sink tells the drop box about one file, and the sink's signature."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from storage.errors import ApplianceError

Status = Literal["done", "failed"]


@dataclass(frozen=True)
class DropOutcome:
    """The verdict on one dropped file, returned by the sink once its ledger row is durable.

    `status` "done" moves the file to `.done/` (codes such as "added" or "duplicate");
    "failed" moves it to `.failed/` beside a reason file carrying `code` and `message`.
    """

    status: Status
    code: str
    message: str = ""
    document_id: str | None = None

    def __post_init__(self) -> None:
        if self.status not in ("done", "failed"):
            raise ValueError(f"status must be 'done' or 'failed', not {self.status!r}")
        if not self.code:
            raise ValueError("code must not be empty")

    @classmethod
    def done(
        cls, code: str = "added", message: str = "", document_id: str | None = None
    ) -> DropOutcome:
        """A file that was taken in (new document, or a duplicate of a known one)."""
        return cls("done", code, message, document_id)

    @classmethod
    def failed(cls, code: str, message: str, document_id: str | None = None) -> DropOutcome:
        """A file that was refused; `code` is stable and machine-readable."""
        return cls("failed", code, message, document_id)


class DropRejected(ApplianceError):
    """Raised by a sink (or `read_dropped_file`) to fail a file with a specific code."""

    status_code = 422

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# sink(path, relative_name) -> DropOutcome. `path` is the file inside the inbox (read it,
# do not keep it: it moves afterwards); `relative_name` is its POSIX path below the inbox,
# for metadata only.
Sink = Callable[[Path, str], DropOutcome]
