"""Why a mailbox could not be read, as codes the API and the connector UI can show.

Messages are written for the person who configured the connector. They never contain
the password: every message built from a server or library error goes through
`scrub()` first, because some servers echo what they were sent.
"""

from __future__ import annotations

from agents.ingest.errors import IngestError


class MailError(IngestError):
    """Base of every mailbox failure; 502 because the fault is at the mail server side."""

    status_code = 502
    code = "mail_error"
    default_message = "The mailbox could not be read."


class MailConfigError(MailError):
    status_code = 422
    code = "mail_config"
    default_message = "The mailbox settings are not valid."


class MailAuthError(MailError):
    code = "mail_auth_failed"
    default_message = "The mail server rejected the user name or password."


class MailUnreachableError(MailError):
    code = "mail_unreachable"
    default_message = "The mail server could not be reached."


class MailTlsError(MailError):
    code = "mail_tls"
    default_message = "A secure (TLS) connection to the mail server could not be set up."


class MailFolderMissingError(MailError):
    code = "mail_folder_missing"
    default_message = "The mail folder does not exist."


class MailProtocolError(MailError):
    code = "mail_protocol"
    default_message = "The mail server answered in an unexpected way."


def scrub(text: str, secret: str) -> str:
    """`text` with every occurrence of `secret` masked (no-op for an empty secret)."""
    return text.replace(secret, "***") if secret else text
