"""IMAP mailbox ingestion against a real Dovecot on 127.0.0.1."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from imapclient import SEEN

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

PDF = small_pdf("Invoice 42")
NOTES = b"Delivery notes: 12 pallets.\n"


@pytest.fixture(scope="module")
def dovecot() -> Iterator[DovecotServer]:
    yield from running_dovecot()


@pytest.fixture
def server(dovecot: DovecotServer) -> Iterator[Mailbox]:
    yield from fresh_mailbox(dovecot)


@pytest.fixture
def state() -> MemoryState:
    return MemoryState()


@pytest.fixture
def sink(state: MemoryState) -> RecordingSink:
    return RecordingSink(state)


def deliver_examples(server: Mailbox, folder: str = "INBOX") -> None:
    server.deliver(
        make_mail(
            "Invoice 42",
            attachments=[
                ("invoice.pdf", PDF, "application/pdf"),
                ("notes.txt", NOTES, "text/plain"),
            ],
        ),
        folder,
    )
    server.deliver(make_mail("Just saying hello", body="No attachment here.\n"), folder)
    server.deliver(
        make_mail("No id", attachments=[("scan.pdf", PDF, "application/pdf")], message_id=False),
        folder,
    )


def flags_by_subject(server: Mailbox, folder: str = "INBOX") -> dict[str, set[bytes]]:
    with server.client() as client:
        client.select_folder(folder, readonly=True)
        data = client.fetch(client.search("ALL"), ["FLAGS", "BODY.PEEK[HEADER.FIELDS (SUBJECT)]"])
    result = {}
    for entry in data.values():
        header = entry[b"BODY[HEADER.FIELDS (SUBJECT)]"].decode().strip()
        result[header.removeprefix("Subject: ")] = set(entry[b"FLAGS"])
    return result


def test_mails_with_attachments_are_ingested_once_and_then_marked_seen(
    server: Mailbox, state: MemoryState, sink: RecordingSink
) -> None:
    # GIVEN a mail with a PDF and a text attachment, one without attachment, and one
    # without a Message-ID header
    deliver_examples(server)
    config = server.config()

    # WHEN the mailbox is polled twice
    first = mail.poll(config, "c1", state, sink)
    second = mail.poll(config, "c1", state, sink)

    # THEN each message reached the sink exactly once, with its parts intact
    assert (first.fetched, first.stored, first.failed) == (3, 3, 0)
    assert sorted(sink.subjects()) == ["Invoice 42", "Just saying hello", "No id"]
    items = {item.subject: item for item in sink.items}
    invoice = items["Invoice 42"]
    assert [(p.filename, p.content_type) for p in invoice.parts] == [
        ("invoice.pdf", "application/pdf"),
        ("notes.txt", "text/plain"),
    ]
    assert invoice.parts[0].content == PDF
    assert invoice.parts[0].sha256 == hashlib.sha256(PDF).hexdigest()
    assert invoice.parts[1].content == NOTES
    assert invoice.uid is not None and invoice.uidvalidity is not None
    assert invoice.message_id.endswith("@example.test>") and not invoice.synthetic_id
    # a mail that yields no document is still handed on, so it is recorded
    assert items["Just saying hello"].parts == []
    assert items["No id"].synthetic_id
    assert items["No id"].message_id.endswith("@no-message-id.invalid>")
    # AND the second poll added nothing
    assert (second.fetched, second.stored, second.duplicates) == (0, 0, 0)
    assert len(sink.items) == 3
    # AND every message is \Seen at the server only now, after the sink stored it
    assert all(SEEN in flags for flags in flags_by_subject(server).values())


def test_fetching_alone_never_sets_seen_so_a_crashing_sink_loses_nothing(
    server: Mailbox, state: MemoryState
) -> None:
    # GIVEN a mailbox and a sink that crashes (e.g. the database went away)
    deliver_examples(server)
    config = server.config()

    def crashing_sink(item: mail.MailItem) -> mail.SinkResult:
        raise RuntimeError("database is locked")

    # WHEN a poll runs into the crash
    with pytest.raises(RuntimeError, match="database is locked"):
        mail.poll(config, "c1", state, crashing_sink)

    # THEN nothing was flagged (BODY.PEEK), and a later poll with a working sink takes all
    assert not any(SEEN in flags for flags in flags_by_subject(server).values())
    sink = RecordingSink(state)
    report = mail.poll(config, "c1", state, sink)
    assert report.stored == 3


def test_take_body_hands_on_the_plain_text_body_as_a_part(
    server: Mailbox, state: MemoryState, sink: RecordingSink
) -> None:
    # GIVEN a mail with a plain and an HTML alternative plus an attachment
    server.deliver(
        make_mail(
            "Report",
            body="Plain words.\n",
            html="<p>Rich words</p>",
            attachments=[("notes.txt", NOTES, "text/plain")],
        )
    )

    # WHEN the connector takes the body only
    mail.poll(server.config(take="body"), "c1", state, sink)

    # THEN the only part is the text/plain body, never the attachment
    (item,) = sink.items
    assert [(p.role, p.content_type, p.filename) for p in item.parts] == [
        ("body", "text/plain", "Report.txt")
    ]
    assert item.parts[0].content.decode().strip() == "Plain words."


def test_move_after_success_moves_stored_mail_to_the_target_folder(
    server: Mailbox, state: MemoryState, sink: RecordingSink
) -> None:
    # GIVEN three mails and an existing "Processed" folder
    deliver_examples(server)
    server.folder_dir("Processed")

    # WHEN polled with after_success=move
    report = mail.poll(server.config(after_success="move", move_to="Processed"), "c1", state, sink)

    # THEN the inbox is empty and the mails are in Processed
    assert report.stored == 3
    assert flags_by_subject(server) == {}
    assert set(flags_by_subject(server, "Processed")) == {
        "Invoice 42",
        "Just saying hello",
        "No id",
    }


def test_move_to_a_missing_folder_fails_before_anything_is_stored(
    server: Mailbox, state: MemoryState, sink: RecordingSink
) -> None:
    # GIVEN mails and a move target that does not exist
    deliver_examples(server)
    config = server.config(after_success="move", move_to="Nowhere")

    # WHEN polled
    with pytest.raises(mail.MailFolderMissingError, match="Nowhere") as raised:
        mail.poll(config, "c1", state, sink)

    # THEN the error says which folder, and nothing was stored or changed at the server
    assert raised.value.code == "mail_folder_missing"
    assert sink.items == []
    assert not any(SEEN in flags for flags in flags_by_subject(server).values())


def test_delete_after_success_removes_stored_mail_from_the_server(
    server: Mailbox, state: MemoryState, sink: RecordingSink
) -> None:
    # GIVEN three mails
    deliver_examples(server)

    # WHEN polled with after_success=delete
    report = mail.poll(server.config(after_success="delete"), "c1", state, sink)

    # THEN all three were stored and then expunged
    assert report.stored == 3
    assert flags_by_subject(server) == {}


def test_failed_mail_stays_unflagged_and_is_retried_when_on_failure_is_leave(
    server: Mailbox, state: MemoryState, sink: RecordingSink
) -> None:
    # GIVEN three mails, and a sink that cannot store the invoice's attachment
    deliver_examples(server)
    config = server.config(on_failure="leave")
    sink.fail_when = lambda item: item.subject == "Invoice 42"

    # WHEN polled
    first = mail.poll(config, "c1", state, sink)

    # THEN the failure is counted, the failed mail is left unseen, the others are seen
    assert (first.stored, first.failed, first.left) == (2, 1, 1)
    flags = flags_by_subject(server)
    assert SEEN not in flags["Invoice 42"]
    assert SEEN in flags["Just saying hello"] and SEEN in flags["No id"]

    # WHEN the next poll runs after the cause was fixed
    sink.fail_when = lambda item: False
    second = mail.poll(config, "c1", state, sink)

    # THEN only the failed mail is fetched again, stored and now flagged
    assert (second.fetched, second.stored) == (1, 1)
    assert sink.subjects().count("Invoice 42") == 2
    assert SEEN in flags_by_subject(server)["Invoice 42"]


def test_failed_mail_is_recorded_and_not_retried_when_on_failure_is_record(
    server: Mailbox, state: MemoryState, sink: RecordingSink
) -> None:
    # GIVEN mails, after_success=delete, and a sink failing on the invoice
    deliver_examples(server)
    config = server.config(on_failure="record", after_success="delete")
    sink.fail_when = lambda item: item.subject == "Invoice 42"

    # WHEN polled twice
    first = mail.poll(config, "c1", state, sink)
    second = mail.poll(config, "c1", state, sink)

    # THEN the failure is recorded as done-with-failure, never retried...
    assert (first.stored, first.failed, first.left) == (2, 1, 0)
    assert second.fetched == 0 and sink.subjects().count("Invoice 42") == 1
    assert sorted(state.done.values()) == ["failed", "stored", "stored"]
    # ...and never deleted: content that was not stored stays on the server, flagged seen
    assert flags_by_subject(server) == {"Invoice 42": {SEEN}}


def test_a_large_mailbox_is_fetched_in_batches_of_batch_size(
    server: Mailbox, state: MemoryState, sink: RecordingSink
) -> None:
    # GIVEN 600 messages
    for number in range(600):
        server.deliver(make_mail(f"Message {number}", body=f"Body {number}\n"))

    # WHEN polled with batch_size=100
    report = mail.poll(server.config(batch_size=100, take="body"), "c1", state, sink)

    # THEN all 600 are stored, and no FETCH downloaded more than 100 messages
    assert report.stored == 600 and len(sink.items) == 600
    assert report.largest_fetch == 100
    assert report.fetches == 6
    assert len({item.message_id for item in sink.items}) == 600


def test_batches_are_also_bounded_by_bytes_and_oversized_mail_is_not_downloaded(
    server: Mailbox, state: MemoryState, sink: RecordingSink
) -> None:
    # GIVEN ten mails of ~20 kB and one of ~300 kB
    for number in range(10):
        attachment = [(f"f{number}.bin", bytes([number]) * 20_000, "application/octet-stream")]
        server.deliver(make_mail(f"Mid {number}", attachments=attachment))
    big = [("big.bin", b"x" * 300_000, "application/octet-stream")]
    server.deliver(make_mail("Huge", attachments=big))

    # WHEN the byte budget per FETCH is 60 kB and the per-mail limit is 200 kB
    config = server.config(max_batch_bytes=60_000, max_message_bytes=200_000)
    report = mail.poll(config, "c1", state, sink)

    # THEN no FETCH carried more than two of the mid-sized mails
    assert report.largest_fetch <= 2
    # AND the huge mail reached the sink as headers only, marked too_large
    huge = next(item for item in sink.items if item.subject == "Huge")
    assert huge.problem == "too_large" and huge.parts == [] and huge.size > 300_000
    assert report.stored == 11


def test_limit_caps_one_poll_and_the_next_poll_continues(
    server: Mailbox, state: MemoryState, sink: RecordingSink
) -> None:
    # GIVEN three mails
    deliver_examples(server)
    config = server.config()

    # WHEN polled with limit=2, then again without
    first = mail.poll(config, "c1", state, sink, limit=2)
    second = mail.poll(config, "c1", state, sink)

    # THEN the first poll took two, the second the remaining one
    assert (first.fetched, second.fetched) == (2, 1)
    assert len(sink.items) == 3


def test_uidvalidity_change_does_not_ingest_stored_mail_again(
    server: Mailbox, state: MemoryState, sink: RecordingSink
) -> None:
    # GIVEN a "Docs" folder already polled (search ALL, nothing changed at the server)
    deliver_examples(server, "Docs")
    config = server.config(folder="Docs", search=["ALL"], after_success="none")
    first = mail.poll(config, "c1", state, sink)
    old_validity = state.uidvalidity("c1", "Docs")

    # WHEN the folder is recreated (new UIDVALIDITY, new UIDs) with the same messages
    with server.client() as client:
        client.rename_folder("Docs", "Docs-old")
        client.create_folder("Docs")
        client.select_folder("Docs-old")
        client.copy(client.search("ALL"), "Docs")
    second = mail.poll(config, "c1", state, sink)
    third = mail.poll(config, "c1", state, sink)

    # THEN the change was noticed, the messages were recognised by Message-ID, and the
    # sink was not given any of them again
    assert first.stored == 3
    assert state.uidvalidity("c1", "Docs") != old_validity
    assert second.uidvalidity_changed
    assert (second.fetched, second.duplicates, second.stored) == (3, 3, 0)
    assert len(sink.items) == 3
    # AND the new UIDs are now done, so the next poll skips without fetching
    assert (third.skipped, third.fetched) == (3, 0)


def test_search_criteria_choose_the_mails_unseen_and_since_a_date(
    server: Mailbox, state: MemoryState, sink: RecordingSink
) -> None:
    # GIVEN an unread mail received in 2020, an unread one from now, and one from now
    # that a person has already read
    server.deliver(make_mail("Old unread", body="from 2020\n"), received=1_577_880_000.0)
    server.deliver(make_mail("New unread", body="from today\n"))
    server.deliver(make_mail("New read", body="read by a person\n"))
    with server.client() as client:
        client.select_folder("INBOX")
        read = [
            uid
            for uid, data in client.fetch(
                client.search("ALL"), ["BODY.PEEK[HEADER.FIELDS (SUBJECT)]"]
            ).items()
            if b"New read" in data[b"BODY[HEADER.FIELDS (SUBJECT)]"]
        ]
        client.add_flags(read, [SEEN])
    # WHEN the mailbox is polled for unseen mail since 1 January 2025, leaving mail as is
    config = server.config(search=["UNSEEN", "SINCE", "01-Jan-2025"], after_success="none")
    report = mail.poll(config, "c1", state, sink)
    # THEN only the new unread mail is taken
    assert sink.subjects() == ["New unread"] and report.fetched == 1
    # AND with the default search (UNSEEN) the old unread one is taken as well, once
    mail.poll(server.config(after_success="none"), "c1", state, sink)
    assert sorted(sink.subjects()) == ["New unread", "Old unread"]
