"""POP3 mailbox ingestion against a real Dovecot on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agents.ingest.sources import mail
from tests.agents.dovecot import (
    DovecotServer,
    Mailbox,
    MemoryState,
    RecordingSink,
    fresh_mailbox,
    make_mail,
    running_dovecot,
    small_pdf,
)

pytestmark = pytest.mark.slow

PDF = small_pdf("Order 7")


@pytest.fixture(scope="module")
def dovecot() -> Iterator[DovecotServer]:
    yield from running_dovecot()


@pytest.fixture
def box(dovecot: DovecotServer) -> Iterator[Mailbox]:
    yield from fresh_mailbox(dovecot)


@pytest.fixture
def state() -> MemoryState:
    return MemoryState()


@pytest.fixture
def sink(state: MemoryState) -> RecordingSink:
    return RecordingSink(state)


def count_on_server(box: Mailbox) -> int:
    with box.client() as client:
        return int(client.select_folder("INBOX", readonly=True)[b"EXISTS"])


def deliver(box: Mailbox, count: int, prefix: str = "Order") -> None:
    for number in range(count):
        box.deliver(
            make_mail(
                f"{prefix} {number}", attachments=[(f"order-{number}.pdf", PDF, "application/pdf")]
            )
        )


def test_uidl_tracking_fetches_each_message_once_and_keeps_it_on_the_server(
    box: Mailbox, state: MemoryState, sink: RecordingSink
) -> None:
    # GIVEN three mails with a PDF each, and a connector that does not delete
    deliver(box, 3)
    config = box.config("pop3")

    # WHEN polled twice, then once more after a new mail arrived
    first = mail.poll(config, "c1", state, sink)
    second = mail.poll(config, "c1", state, sink)
    deliver(box, 1, prefix="Late")
    third = mail.poll(config, "c1", state, sink)

    # THEN every message reached the sink once, with its attachment and UIDL
    assert (first.fetched, first.stored) == (3, 3)
    assert (second.fetched, second.skipped) == (0, 3)
    assert (third.fetched, third.skipped) == (1, 3)
    assert sorted(sink.subjects()) == ["Late 0", "Order 0", "Order 1", "Order 2"]
    assert all(item.uidl and item.parts[0].content == PDF for item in sink.items)
    # AND nothing was deleted
    assert count_on_server(box) == 4


def test_delete_after_success_removes_stored_mail_in_committed_batches(
    box: Mailbox, state: MemoryState, sink: RecordingSink
) -> None:
    # GIVEN 25 mails and a connector deleting after success, 10 per batch
    deliver(box, 25)
    config = box.config("pop3", delete_after_success=True, batch_size=10)

    # WHEN polled
    report = mail.poll(config, "c1", state, sink)

    # THEN all were stored one message at a time and then deleted at the server
    assert (report.fetched, report.stored, report.largest_fetch) == (25, 25, 1)
    assert count_on_server(box) == 0
    assert mail.poll(config, "c1", state, sink).fetched == 0


def test_failed_mail_is_kept_and_retried_when_on_failure_is_leave(
    box: Mailbox, state: MemoryState, sink: RecordingSink
) -> None:
    # GIVEN two mails, deleting after success, and a sink failing on one of them
    deliver(box, 2)
    config = box.config("pop3", delete_after_success=True, on_failure="leave")
    sink.fail_when = lambda item: item.subject == "Order 1"

    # WHEN polled, then polled again after the cause was fixed
    first = mail.poll(config, "c1", state, sink)
    remaining = count_on_server(box)
    sink.fail_when = lambda item: False
    second = mail.poll(config, "c1", state, sink)

    # THEN the failed mail stayed on the server and was stored by the retry
    assert (first.stored, first.failed, first.left) == (1, 1, 1)
    assert remaining == 1
    assert (second.fetched, second.stored) == (1, 1)
    assert count_on_server(box) == 0


def test_failed_mail_is_recorded_and_never_deleted_when_on_failure_is_record(
    box: Mailbox, state: MemoryState, sink: RecordingSink
) -> None:
    # GIVEN two mails, deleting after success, and a sink failing on one of them
    deliver(box, 2)
    config = box.config("pop3", delete_after_success=True, on_failure="record")
    sink.fail_when = lambda item: item.subject == "Order 1"

    # WHEN polled twice
    first = mail.poll(config, "c1", state, sink)
    second = mail.poll(config, "c1", state, sink)

    # THEN the failure is recorded and not retried, and its mail is still on the server
    assert (first.stored, first.failed, first.left) == (1, 1, 0)
    assert (second.fetched, second.skipped) == (0, 1)
    assert sorted(state.done.values()) == ["failed", "stored"]
    assert count_on_server(box) == 1
