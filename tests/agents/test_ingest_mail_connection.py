"""Connecting to mailboxes: TLS variants, readable failures, no secrets in messages."""

from __future__ import annotations

import socket
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
)

pytestmark = pytest.mark.slow

WRONG = "wrong-Pa55word-xyz"


@pytest.fixture(scope="module")
def dovecot() -> Iterator[DovecotServer]:
    yield from running_dovecot()


@pytest.fixture
def box(dovecot: DovecotServer) -> Iterator[Mailbox]:
    yield from fresh_mailbox(dovecot)


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_implicit_tls_and_starttls_work_with_the_servers_own_ca(
    box: Mailbox, protocol: str, security: str
) -> None:
    # GIVEN a mail and a connector trusting the server's self-signed CA
    box.deliver(make_mail("Hello", attachments=[("a.txt", b"content", "text/plain")]))
    config = box.config(protocol, security)
    state = MemoryState()
    sink = RecordingSink(state)

    # WHEN the connection is tested and the mailbox polled
    result = mail.test_connection(config)
    report = mail.poll(config, "c1", state, sink)

    # THEN both succeed over the encrypted connection
    assert result.ok, result.message
    assert "1 message" in result.message
    assert report.stored == 1 and sink.items[0].parts[0].content == b"content"


def test_wrong_password_gives_a_readable_failure_without_the_password(box: Mailbox) -> None:
    # GIVEN connectors with a wrong password
    for protocol in ("imap", "pop3"):
        config = box.config(protocol, password=WRONG)

        # WHEN the connection is tested, and a poll is attempted
        result = mail.test_connection(config)
        with pytest.raises(mail.MailAuthError) as raised:
            mail.poll(config, "c1", MemoryState(), RecordingSink(MemoryState()))

        # THEN the failure names the cause in plain words and never shows the password
        assert not result.ok and result.code == "mail_auth_failed"
        assert "rejected the user name or password" in result.message
        assert WRONG not in result.message and WRONG not in str(raised.value)
        assert WRONG not in repr(raised.value)
        assert "b'" not in result.message


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_an_untrusted_certificate_is_refused_with_a_hint(
    box: Mailbox, protocol: str, security: str
) -> None:
    # GIVEN a connector that does not know the server's private CA
    config = box.config(protocol, security, ca_file=None)

    # WHEN tested
    result = mail.test_connection(config)

    # THEN TLS fails with a reason and the way to fix it
    assert not result.ok and result.code == "mail_tls"
    assert "could not be verified" in result.message and "CA file" in result.message


def test_verification_can_only_be_turned_off_explicitly_and_visibly(box: Mailbox) -> None:
    # GIVEN a connector without the CA but with verification explicitly off
    config = box.config("imap", ca_file=None, verify_tls=False)

    # WHEN tested
    result = mail.test_connection(config)

    # THEN it connects, and says that the certificate was not verified
    assert result.ok and "not verified" in result.message


def test_a_closed_port_is_reported_as_unreachable() -> None:
    # GIVEN a port nobody listens on
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = mail.MailboxConfig(
        "imap", "127.0.0.1", "u", "p", port=port, security="plain", timeout=5
    )

    # WHEN tested
    result = mail.test_connection(config)

    # THEN the message says the connection was refused
    assert not result.ok and result.code == "mail_unreachable"
    assert "refused" in result.message


def test_a_missing_folder_is_reported_by_name(box: Mailbox) -> None:
    # GIVEN a connector reading a folder that does not exist
    config = box.config("imap", folder="Invoices")

    # WHEN tested
    result = mail.test_connection(config)

    # THEN the message names the folder
    assert not result.ok and result.code == "mail_folder_missing"
    assert "'Invoices'" in result.message


def test_plain_connections_work_to_localhost_only(box: Mailbox) -> None:
    # GIVEN an unencrypted connector to 127.0.0.1 (allowed for tests and local relays)
    config = box.config("imap", "plain")

    # WHEN tested
    result = mail.test_connection(config)

    # THEN it works
    assert result.ok, result.message
