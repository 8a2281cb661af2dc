"""Why a mailbox could not be read, as codes the API and the connector UI can show.

Messages are written for the person who configured the connector. They never contain
the password: every piece of text that comes from a server or library error goes
through `scrub()` first, because some servers echo what they were sent. Our own words
are never scrubbed: a short password ("p") would otherwise mask letters of them.
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


WITHHELD = "the server's reply is not shown because it contains the password"


def scrub(server_text: str, secret: str) -> str:
    """`server_text` (words from the server or a library), or, if the secret occurs in it
    anywhere, a note that it is withheld: masking would either reveal a secret's length
    and neighbourhood or, for a short one, garble the whole reply."""
    if secret and secret in server_text:
        return WITHHELD
    return server_text
