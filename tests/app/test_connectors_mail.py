"""Mailbox connectors end to end: the API, a real Dovecot on 127.0.0.1, the real ledger."""

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from imapclient import SEEN

from tests.agents.dovecot import (
    PASSWORD,
    DovecotServer,
    Mailbox,
    fresh_mailbox,
    make_mail,
    running_dovecot,
    small_pdf,
)
from tests.app.conftest import ApiWorld

pytestmark = pytest.mark.slow

PDF = small_pdf("Invoice 42 for harbour cranes")
NOTES = b"Delivery notes: 12 pallets of rope.\n"
BROKEN_PDF = small_pdf("never readable")[:400]  # truncated: the parser fails it
CANARY_WRONG = "CANARY-wrong-mail-password-0f3a"
URL = "/api/v1/tenants/acme/connectors"


@pytest.fixture(scope="module")
def dovecot() -> Iterator[DovecotServer]:
    yield from running_dovecot()


@pytest.fixture
def mailbox(dovecot: DovecotServer) -> Iterator[Mailbox]:
    yield from fresh_mailbox(dovecot)


@pytest.fixture
def owner(world: ApiWorld) -> dict[str, str]:
    world.user("olga")
    world.tenant("acme", olga="owner")
    return world.bearer("olga")


def connector_body(mailbox: Mailbox, protocol: str = "imap", **config: Any) -> dict[str, Any]:
    """What the UI would post for this Dovecot account (TLS, trusting the test CA)."""
    ports = {"imap": mailbox.server.imaps, "pop3": mailbox.server.pop3s}
    return {
        "kind": protocol,
        "name": f"{protocol} {mailbox.user}",
        "config": {
            "host": "127.0.0.1",
            "port": ports[protocol],
            "security": "tls",
            "username": mailbox.user,
            "ca_file": str(mailbox.ca_file),
            "timeout": 10,
            **config,
        },
        "secrets": {"password": mailbox.password},
    }


def create(world: ApiWorld, owner: dict[str, str], body: dict[str, Any]) -> str:
    response = world.client.post(URL, json=body, headers=owner)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def poll(world: ApiWorld, owner: dict[str, str], connector_id: str) -> dict[str, Any]:
    response = world.client.post(f"{URL}/{connector_id}/poll", headers=owner)
    assert response.status_code == 200, response.text
    return dict(response.json())


def documents(world: ApiWorld, owner: dict[str, str]) -> list[dict[str, Any]]:
    response = world.client.get("/api/v1/tenants/acme/documents?limit=200", headers=owner)
    return list(response.json()["items"])


def seen_by_subject(mailbox: Mailbox) -> dict[str, bool]:
    with mailbox.client() as client:
        client.select_folder("INBOX", readonly=True)
        data = client.fetch(client.search("ALL"), ["FLAGS", "BODY.PEEK[HEADER.FIELDS (SUBJECT)]"])
    result = {}
    for entry in data.values():
        subject = entry[b"BODY[HEADER.FIELDS (SUBJECT)]"].decode().split(":", 1)[1].strip()
        result[subject] = SEEN in entry[b"FLAGS"]
    return result


def test_imap_mails_are_ingested_once_and_a_failing_one_stays_unflagged(
    world: ApiWorld, owner: dict[str, str], mailbox: Mailbox
) -> None:
    # GIVEN a mail with two attachments, one without any, and one with a broken PDF
    mailbox.deliver(
        make_mail(
            "Invoice 42",
            attachments=[
                ("invoice.pdf", PDF, "application/pdf"),
                ("notes.txt", NOTES, "text/plain"),
            ],
        )
    )
    mailbox.deliver(make_mail("Just saying hello", body="No attachment here.\n"))
    mailbox.deliver(
        make_mail("Broken scan", attachments=[("scan.pdf", BROKEN_PDF, "application/pdf")])
    )
    connector = create(world, owner, connector_body(mailbox, on_failure="leave"))
    # WHEN the connection is tested
    tested = world.client.post(f"{URL}/{connector}/test", headers=owner).json()
    # THEN it reports what is there and changes nothing
    assert tested["ok"] is True and "3 message(s)" in tested["message"], tested
    assert seen_by_subject(mailbox) == dict.fromkeys(
        ["Invoice 42", "Just saying hello", "Broken scan"], False
    )
    # WHEN it is polled through the API
    first = poll(world, owner, connector)
    # THEN the attachments are documents from imap, parsed, with the mail's headers
    report = first["report"]
    assert (report["stored"], report["failed"], report["left"]) == (2, 1, 1), report
    docs = {d["filename"]: d for d in documents(world, owner)}
    assert set(docs) == {"invoice.pdf", "notes.txt", "scan.pdf"}
    invoice = docs["invoice.pdf"]
    assert invoice["source"] == "imap" and invoice["state"] == "parsed"
    assert invoice["source_ref"] == f"imap {mailbox.user}/INBOX/1"
    assert invoice["metadata"]["subject"] == "Invoice 42"
    assert invoice["metadata"]["sender"] == "Sender <sender@example.test>"
    assert docs["scan.pdf"]["state"] == "failed"
    # AND the good mails are flagged seen, the failed one is left for a retry
    assert seen_by_subject(mailbox) == {
        "Invoice 42": True,
        "Just saying hello": True,
        "Broken scan": False,
    }
    assert first["connector"]["last_status"] == "partial"
    assert "1 left at the server" in first["connector"]["last_message"]
    # WHEN polled again
    second = poll(world, owner, connector)["report"]
    # THEN nothing is added: only the failed mail is tried again, and fails again
    assert (second["stored"], second["fetched"], second["left"]) == (0, 1, 1), second
    assert len(documents(world, owner)) == 3
    assert seen_by_subject(mailbox)["Broken scan"] is False
    # AND the mail without attachments was recorded so it is never fetched again
    tenant_id = world.services.system.find_tenant("acme").id
    with world.services.tenants.database(tenant_id).read() as conn:
        outcomes = sorted(r[0] for r in conn.execute("SELECT outcome FROM mail_state"))
    assert outcomes == ["empty", "stored"]


def test_on_failure_record_flags_the_failing_mail_and_does_not_retry_it(
    world: ApiWorld, owner: dict[str, str], mailbox: Mailbox
) -> None:
    # GIVEN a mail whose attachment cannot be read, and a connector that records failures
    mailbox.deliver(
        make_mail("Broken scan", attachments=[("scan.pdf", BROKEN_PDF, "application/pdf")])
    )
    connector = create(world, owner, connector_body(mailbox, on_failure="record", search=["ALL"]))
    # WHEN polled twice
    first = poll(world, owner, connector)["report"]
    second = poll(world, owner, connector)["report"]
    # THEN it is flagged, its document is failed with a reason, and it is not fetched again
    assert (first["failed"], first["left"]) == (1, 0)
    assert (second["fetched"], second["skipped"]) == (0, 1)
    assert seen_by_subject(mailbox) == {"Broken scan": True}
    [scan] = documents(world, owner)
    assert scan["state"] == "failed" and scan["error"]["code"]


def test_pop3_mails_are_ingested_once(
    world: ApiWorld, owner: dict[str, str], mailbox: Mailbox
) -> None:
    # GIVEN one mail with an attachment, read over POP3 with TLS
    mailbox.deliver(make_mail("Invoice 43", attachments=[("invoice.pdf", PDF, "application/pdf")]))
    connector = create(world, owner, connector_body(mailbox, "pop3"))
    assert world.client.post(f"{URL}/{connector}/test", headers=owner).json()["ok"] is True
    # WHEN it is polled twice
    first = poll(world, owner, connector)["report"]
    second = poll(world, owner, connector)["report"]
    # THEN one document from pop3, and the second poll skips the known UIDL
    assert first["stored"] == 1 and (second["fetched"], second["skipped"]) == (0, 1)
    [invoice] = documents(world, owner)
    assert invoice["source"] == "pop3" and invoice["filename"] == "invoice.pdf"
    assert invoice["source_ref"].startswith(f"pop3 {mailbox.user}/")


def test_a_wrong_password_is_reported_and_never_leaks(
    world: ApiWorld, owner: dict[str, str], mailbox: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = connector_body(mailbox)
    body["secrets"] = {"password": CANARY_WRONG}
    connector = create(world, owner, body)
    # WHEN the connector with the wrong password is tested and polled
    tested = world.client.post(f"{URL}/{connector}/test", headers=owner)
    polled = world.client.post(f"{URL}/{connector}/poll", headers=owner)
    shown = world.client.get(f"{URL}/{connector}", headers=owner)
    # THEN the test says why, the poll fails with 502 and the status is recorded
    assert tested.status_code == 200 and tested.json()["ok"] is False
    assert tested.json()["code"] == "mail_auth_failed"
    assert polled.status_code == 502 and polled.json()["code"] == "mail_auth_failed"
    assert shown.json()["last_status"] == "error"
    assert "rejected the user name or password" in shown.json()["last_message"]
    # WHEN the password is corrected and it is polled again, THEN it works
    world.client.put(f"{URL}/{connector}", json={"secrets": {"password": PASSWORD}}, headers=owner)
    assert poll(world, owner, connector)["connector"]["last_status"] == "ok"
    # AND neither password appears in any response, log line or audit entry
    texts = [tested.text, polled.text, shown.text]
    audit = json.dumps(world.audit())
    for secret in (CANARY_WRONG, PASSWORD):
        assert all(secret not in text for text in texts)
        assert secret not in caplog.text and secret not in audit


def test_the_scheduler_queues_due_mailboxes_and_the_task_polls_them(
    world: ApiWorld, owner: dict[str, str], mailbox: Mailbox
) -> None:
    # GIVEN an enabled mailbox never polled, a disabled one, and a hook
    mailbox.deliver(make_mail("Invoice 44", attachments=[("notes.txt", NOTES, "text/plain")]))
    due = create(world, owner, connector_body(mailbox))
    disabled = connector_body(mailbox, "pop3")
    disabled["enabled"] = False
    create(world, owner, disabled)
    create(world, owner, {"kind": "hook", "name": "crm", "secrets": {"token": "t" * 20}})
    scheduler = world.runtime.mail_scheduler
    huey = world.runtime.queue.huey
    huey.flush()
    # WHEN the periodic scheduler runs twice before the queue gets to the task
    assert scheduler.enqueue_due(world.runtime.enqueue.mail_poll) == 1
    assert scheduler.enqueue_due(world.runtime.enqueue.mail_poll) == 0
    # THEN exactly one ingest.poll_mailbox task with ids only is queued
    queued = [task for task in iter(huey.dequeue, None)]
    polls = [t for t in queued if t.name == "ingest.poll_mailbox"]
    assert len(polls) == 1
    tenant_id = world.services.system.find_tenant("acme").id
    assert polls[0].args[0].__dict__ == {"tenant_id": tenant_id, "connector_id": due}
    # WHEN the queue runs it
    huey.execute(polls[0])
    # THEN the mail is ingested and the mailbox is not due again until the interval passed
    assert [d["filename"] for d in documents(world, owner)] == ["notes.txt"]
    assert scheduler.due() == []
