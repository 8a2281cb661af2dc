"""E-mail through the outbox to aiosmtpd on 127.0.0.1: plain, STARTTLS, implicit TLS,
AUTH; attachments from report blobs and documents arrive byte-identical."""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.act import outbox
from tests.agents.act.conftest import Actions
from tests.agents.act.smtp_server import (
    PASSWORD,
    USER,
    make_certificate,
    server_context,
    start_smtp,
)


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    return make_certificate(tmp_path)


@pytest.fixture
def smtp_factory() -> Iterator[Callable[..., Any]]:
    started: list[Any] = []

    def start(**kwargs: Any) -> Any:
        controller, mailbox = start_smtp(**kwargs)
        started.append(controller)
        return controller, mailbox

    yield start
    for controller in started:
        controller.stop()


def _connector(actions: Actions, port: int, **config: Any) -> None:
    secrets = {"password": config.pop("password")} if "password" in config else {}
    actions.connectors.create(
        "smtp",
        "mailer",
        {
            "host": "127.0.0.1",
            "port": port,
            "from_address": "appliance@example.org",
            "subject_template": "Report for {{ data.customer }}",
            "text_template": "Hello {{ data.customer }},\nthe report is attached.",
            "html_template": "<p>Hello {{ data.customer }}</p>",
            **config,
        },
        secrets,
    )


def _send(actions: Actions, **params: Any) -> outbox.OutboxMessage:
    result = actions.complete(
        "email",
        {"connector": "mailer", "to": ["accountant@example.org"], "data": {"customer": "<ACME>"}}
        | params,
    )
    actions.deliver_queued()
    return outbox.get_message(actions.db, result.output["message_id"])


def test_a_plain_mail_arrives_with_rendered_templates_and_a_stable_message_id(
    actions: Actions, smtp_factory: Callable[..., Any]
) -> None:
    # GIVEN a plain SMTP server and a connector with templates
    controller, mailbox = smtp_factory()
    _connector(actions, controller.port, security="none")

    # WHEN an email step's message is delivered
    message = _send(actions)

    # THEN it arrived once, with subject and both bodies rendered (HTML escaped)
    assert message.state == "delivered"
    [mail] = mailbox.messages
    assert mail["Subject"] == "Report for <ACME>"
    assert mail.get_body(("plain",)).get_content().startswith("Hello <ACME>,")
    assert "&lt;ACME&gt;" in mail.get_body(("html",)).get_content()
    assert mail["Message-ID"].endswith("@example.org>")
    assert mailbox.envelopes == [("appliance@example.org", ["accountant@example.org"])]


def test_starttls_with_login_and_a_report_attachment_arrives_intact(
    actions: Actions,
    smtp_factory: Callable[..., Any],
    certificate: tuple[Path, Path],
) -> None:
    # GIVEN a STARTTLS server requiring AUTH, whose certificate the connector trusts
    cert, key = certificate
    controller, mailbox = smtp_factory(starttls=server_context(cert, key), auth=True)
    _connector(
        actions,
        controller.port,
        security="starttls",
        username=USER,
        password=PASSWORD,
        ca_file=str(cert),
    )
    # AND a report stored as an encrypted blob (binary, over one blob segment)
    report = bytes(range(256)) * 5000 + b"%%EOF"
    blob_id = actions.services.tenants.blobs(actions.tenant_id).put(report)

    # WHEN the mail with the report attached is delivered
    message = _send(
        actions,
        attachments=[
            {"blob_id": blob_id, "filename": "report.pdf", "content_type": "application/pdf"}
        ],
    )

    # THEN the attachment's bytes are identical
    assert message.state == "delivered", message.last_error
    [mail] = mailbox.messages
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == "report.pdf"
    assert attachment.get_content() == report


def test_implicit_tls_delivers(
    actions: Actions, smtp_factory: Callable[..., Any], certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    controller, mailbox = smtp_factory(tls=server_context(cert, key))
    _connector(actions, controller.port, security="tls", ca_file=str(cert))
    assert _send(actions).state == "delivered"
    assert len(mailbox.messages) == 1


def test_a_wrong_password_is_dead_and_says_so(
    actions: Actions, smtp_factory: Callable[..., Any], certificate: tuple[Path, Path]
) -> None:
    # GIVEN a server requiring AUTH and a connector with a wrong password
    cert, key = certificate
    controller, mailbox = smtp_factory(starttls=server_context(cert, key), auth=True)
    _connector(
        actions, controller.port, username=USER, password="not the password", ca_file=str(cert)
    )
    # WHEN delivered THEN dead at once, the reason in plain words, no secret in the row
    message = _send(actions)
    assert (message.state, message.attempts) == ("dead", 1), message.last_error
    assert message.last_error == "The mail server refused the login."
    assert "not the password" not in repr(message)
    assert mailbox.messages == []


def test_an_untrusted_certificate_is_refused(
    actions: Actions, smtp_factory: Callable[..., Any], certificate: tuple[Path, Path]
) -> None:
    # GIVEN a STARTTLS server whose certificate the connector does not trust
    cert, key = certificate
    controller, mailbox = smtp_factory(starttls=server_context(cert, key))
    _connector(actions, controller.port, security="starttls")
    # WHEN delivered THEN nothing was sent and the reason names the certificate
    message = _send(actions)
    assert message.state == "dead" and "certificate" in (message.last_error or "")
    assert mailbox.messages == []


def test_attachments_over_the_limit_are_refused(
    actions_factory: Callable[..., Actions], smtp_factory: Callable[..., Any]
) -> None:
    actions = actions_factory(allow=("127.0.0.1/32",), max_attachment_bytes=1000)
    controller, mailbox = smtp_factory()
    _connector(actions, controller.port, security="none")
    blob_id = actions.services.tenants.blobs(actions.tenant_id).put(b"x" * 2000)
    message = _send(actions, attachments=[{"blob_id": blob_id}])
    assert (message.state, message.last_code) == ("dead", "payload_too_large")
    assert mailbox.messages == []


def test_the_same_mail_sent_twice_has_the_same_message_id(
    actions: Actions, smtp_factory: Callable[..., Any]
) -> None:
    # GIVEN a delivered mail
    controller, mailbox = smtp_factory()
    _connector(actions, controller.port, security="none")
    message = _send(actions)
    # WHEN it is redelivered by hand
    actions.dispatcher.redeliver(actions.tenant_id, message.id)
    actions.deliver_queued()
    # THEN the receiver can tell it is the same mail
    first, second = mailbox.messages
    assert first["Message-ID"] == second["Message-ID"]
