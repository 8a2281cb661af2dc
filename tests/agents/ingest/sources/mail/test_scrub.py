"""Secrets in connector messages: server replies that repeat the password are withheld;
our own words are never masked, however short the password (issue 21, item 9)."""

import socket

from agents.ingest.sources import mail
from agents.ingest.sources.mail.errors import WITHHELD, scrub


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_one_letter_password_does_not_mask_letters_of_the_message() -> None:
    # GIVEN a connector whose password is "p", to a port nobody listens on
    config = mail.MailboxConfig(
        "imap", "127.0.0.1", "u", "p", port=_closed_port(), security="plain", timeout=5
    )
    # WHEN the connection is tested
    result = mail.test_connection(config)
    # THEN the message reads as written
    assert result.code == "mail_unreachable"
    assert "check the host name and port" in result.message
    assert "***" not in result.message


def test_a_server_reply_holding_the_password_is_withheld_whole() -> None:
    # GIVEN server replies, one echoing the password
    secret = "hunter2-long-secret"
    echoed = f"NO [AUTHENTICATIONFAILED] user u pass {secret} rejected"
    # WHEN scrubbed
    # THEN the echo is withheld entirely, nothing of the secret or its length shows
    assert scrub(echoed, secret) == WITHHELD
    assert secret not in scrub(echoed, secret)
    # AND a reply without it is shown as it is, whatever the secret's length
    assert scrub("NO [AUTHENTICATIONFAILED] Authentication failed.", "zz") == (
        "NO [AUTHENTICATIONFAILED] Authentication failed."
    )
    assert scrub("a reply with p in it", "p") == WITHHELD
