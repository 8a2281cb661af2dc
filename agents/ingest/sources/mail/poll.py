"""The two entry points callers use: `poll` a mailbox and `test_connection` to it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from agents.ingest.sources.mail.config import MailboxConfig
from agents.ingest.sources.mail.errors import MailError
from agents.ingest.sources.mail.imap import check_imap, poll_imap
from agents.ingest.sources.mail.pop3 import check_pop3, poll_pop3
from agents.ingest.sources.mail.state import MailState, PollReport, Sink

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TestResult:
    """Outcome of `test_connection`: `message` is for people, `code` for machines."""

    __test__ = False  # not a pytest test class, even when imported into a test module

    ok: bool
    message: str
    code: str | None = None


def poll(
    config: MailboxConfig,
    connector_id: str,
    state: MailState,
    sink: Sink,
    *,
    limit: int | None = None,
) -> PollReport:
    """Fetch new mail once and hand each message to `sink` as a `MailItem`.

    A message is flagged, moved or deleted at the server only after the sink returned
    "stored" or "duplicate" for it, and is then marked done in `state`. `limit` caps
    how many messages this call downloads (the rest wait for the next poll). Raises
    `MailError` (auth, TLS, unreachable, folder missing, protocol); exceptions from
    `sink` or `state` propagate unchanged, and whatever was not marked done is
    fetched again next time and recognised by its idempotency key.
    """
    run = poll_imap if config.protocol == "imap" else poll_pop3
    report = run(config, connector_id, state, sink, limit)
    log.info("mail poll %s connector=%s: %s", config.describe(), connector_id, report)
    return report


def test_connection(config: MailboxConfig) -> TestResult:
    """Log in and look at the folder/mailbox without changing anything."""
    try:
        message = check_imap(config) if config.protocol == "imap" else check_pop3(config)
    except MailError as error:
        # every server-sourced part of the message was scrubbed where it was built
        return TestResult(False, error.message, error.code)
    if not config.verify_tls and config.security != "plain":
        message += " Warning: the server certificate was not verified."
    return TestResult(True, message)


test_connection.__test__ = False  # type: ignore[attr-defined]
