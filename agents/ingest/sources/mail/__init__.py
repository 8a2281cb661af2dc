"""Mailbox ingestion: IMAP and POP3 connectors that hand each new mail to a sink once.

Contract (the composition root wires the tenant database into `MailState` and `Sink`):

    MailboxConfig(protocol, host, username, password, port=None, security="tls", ...)
        frozen; validated on construction (MailConfigError); password never in repr.
    poll(config, connector_id, state, sink, *, limit=None) -> PollReport
    test_connection(config) -> TestResult(ok, message, code)
    MailItem(key, message_id, subject, sender, date, size, parts: list[MailPart], ...)
        .idempotency_key = Message-ID + hash of the parts' sha256
    MailPart(filename, content, content_type, sha256, role "body"|"attachment")
    MailState protocol: uidvalidity, set_uidvalidity, is_done, seen_message, mark_done
    Sink = Callable[[MailItem], SinkResult]; SinkResult.stored()/.duplicate()/.failed(reason)
    Errors: MailError(IngestError) and subclasses with codes mail_auth_failed,
        mail_unreachable, mail_tls, mail_folder_missing, mail_protocol, mail_config.
"""

from agents.ingest.sources.mail.config import MailboxConfig
from agents.ingest.sources.mail.errors import (
    MailAuthError,
    MailConfigError,
    MailError,
    MailFolderMissingError,
    MailProtocolError,
    MailTlsError,
    MailUnreachableError,
)
from agents.ingest.sources.mail.message import MailItem, MailPart, parse_message
from agents.ingest.sources.mail.poll import TestResult, poll, test_connection
from agents.ingest.sources.mail.state import MailState, Outcome, PollReport, Sink, SinkResult

__all__ = [
    "MailAuthError",
    "MailConfigError",
    "MailError",
    "MailFolderMissingError",
    "MailItem",
    "MailPart",
    "MailProtocolError",
    "MailState",
    "MailTlsError",
    "MailUnreachableError",
    "MailboxConfig",
    "Outcome",
    "PollReport",
    "Sink",
    "SinkResult",
    "TestResult",
    "parse_message",
    "poll",
    "test_connection",
]
