"""The caller's side of a poll: where progress is remembered and where items are stored.

The mail package never touches the database. The caller passes a `MailState` (backed by
the tenant database) and a `Sink` (writes ledger rows). The order of events for each
message is: sink -> (rows durable) -> server-side action -> `mark_done`. A crash between
any two steps is healed on the next poll: the message is fetched again, `seen_message`
recognises it, it counts as a duplicate and the action is completed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Literal, Protocol

from agents.ingest.sources.mail.message import MailItem

Outcome = Literal["stored", "failed", "duplicate"]


class MailState(Protocol):
    """Per-connector progress, implemented by the caller (tenant database in production)."""

    def uidvalidity(self, connector_id: str, folder: str) -> int | None:
        """The folder's UIDVALIDITY seen at the last poll, or None before the first."""

    def set_uidvalidity(self, connector_id: str, folder: str, value: int) -> None:
        """Remember a new UIDVALIDITY. Done-markers of older values for this folder can
        be dropped: their keys embed the old value and never match again."""

    def is_done(self, connector_id: str, key: str) -> bool:
        """Whether `MailItem.key` was finished (marked with `mark_done`)."""

    def seen_message(self, connector_id: str, idempotency_key: str) -> bool:
        """Whether a message with this `MailItem.idempotency_key` is already in the
        ledger (the sink stored it, or `mark_done` recorded it): it is not stored again."""

    def mark_done(
        self, connector_id: str, key: str, idempotency_key: str, outcome: Outcome
    ) -> None:
        """Record a message (`MailItem.key`, `MailItem.idempotency_key`) as finished with
        `outcome`; called after the server-side action for it succeeded. Plain strings,
        not the item, so a batch's contents can be freed before the batch ends."""


@dataclass(frozen=True)
class SinkResult:
    """What the sink did with one item. "stored" means its ledger rows are durable."""

    outcome: Outcome
    reason: str | None = None

    @classmethod
    def stored(cls) -> SinkResult:
        return cls("stored")

    @classmethod
    def duplicate(cls) -> SinkResult:
        return cls("duplicate")

    @classmethod
    def failed(cls, reason: str) -> SinkResult:
        return cls("failed", reason)


Sink = Callable[[MailItem], SinkResult]


@dataclass
class PollReport:
    """Counts for one poll. `skipped` were not fetched (already done); `left` failed and
    were left untouched for a retry (on_failure="leave"). `largest_fetch` is the most
    messages downloaded by one FETCH/RETR round, the memory bound of the poll."""

    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    failed: int = 0
    skipped: int = 0
    left: int = 0
    fetches: int = 0
    largest_fetch: int = 0
    uidvalidity_changed: bool = False

    def count_fetch(self, messages: int) -> None:
        """Account for one download round of `messages` messages."""
        self.fetches += 1
        self.fetched += messages
        self.largest_fetch = max(self.largest_fetch, messages)


class Disposition(Enum):
    """What may happen at the server after the sink has seen a message."""

    CONSUMED = "consumed"  # content durable: seen/move/delete all allowed
    RECORDED = "recorded"  # failure recorded: flag or move, never delete
    LEAVE = "leave"  # untouched, retried next poll


def deliver(
    item: MailItem,
    connector_id: str,
    state: MailState,
    sink: Sink,
    on_failure: str,
    report: PollReport,
) -> tuple[Disposition, Outcome]:
    """Hand one item to the sink unless the ledger already has it; count the outcome."""
    if state.seen_message(connector_id, item.idempotency_key):
        report.duplicates += 1
        return Disposition.CONSUMED, "duplicate"
    result = sink(item)
    if result.outcome == "stored":
        report.stored += 1
        return Disposition.CONSUMED, "stored"
    if result.outcome == "duplicate":
        report.duplicates += 1
        return Disposition.CONSUMED, "duplicate"
    report.failed += 1
    if on_failure == "record":
        return Disposition.RECORDED, "failed"
    report.left += 1
    return Disposition.LEAVE, "failed"
