"""Polling a POP3 mailbox: UIDL tracking, one message in memory at a time, optional DELE.

POP3 commits DELE only at QUIT, and message numbers are valid for one session. So when
deleting, the session is closed after every batch that deleted something (committing
at most `batch_size` deletions at a time) and a new one continues by UIDL.
"""

from __future__ import annotations

import logging
import poplib

from agents.ingest.sources.mail.config import MailboxConfig
from agents.ingest.sources.mail.connect import network, pop3_session
from agents.ingest.sources.mail.message import parse_headers, parse_message
from agents.ingest.sources.mail.state import (
    Disposition,
    MailState,
    Outcome,
    PollReport,
    Sink,
    deliver,
)

log = logging.getLogger(__name__)

Finished = list[tuple[str, str, Outcome]]


def pop3_key(uidl: str) -> str:
    """The `MailState` key of one POP3 message."""
    return f"pop3:{uidl}"


def poll_pop3(
    config: MailboxConfig,
    connector_id: str,
    state: MailState,
    sink: Sink,
    limit: int | None = None,
) -> PollReport:
    """Ingest every message whose UIDL is not done yet (see `poll`)."""
    report = PollReport()
    todo: list[str] | None = None
    while todo is None or todo:
        finished: Finished = []
        with pop3_session(config) as pop:
            with network(config):
                listing = _listing(pop)
            if todo is None:
                todo = [u for u in listing if not state.is_done(connector_id, pop3_key(u))]
                report.skipped = len(listing) - len(todo)
                if limit is not None:
                    todo = todo[:limit]
            todo = _session(pop, config, connector_id, state, sink, listing, todo, finished, report)
            with network(config):
                pop.quit()  # commits this session's DELEs
        for key, idempotency_key, outcome in finished:
            state.mark_done(connector_id, key, idempotency_key, outcome)
    return report


def check_pop3(config: MailboxConfig) -> str:
    """Log in and count; returns a sentence for the user."""
    with pop3_session(config) as pop, network(config):
        count, octets = pop.stat()
    return f"Connected to {config.describe()}; {count} message(s), {octets} bytes."


def _listing(pop: poplib.POP3) -> dict[str, tuple[int, int]]:
    """UIDL -> (message number, size), in mailbox order."""
    sizes: dict[int, int] = {}
    for line in pop.list()[1]:
        fields = line.split()
        sizes[int(fields[0])] = int(fields[1])
    listing: dict[str, tuple[int, int]] = {}
    for line in pop.uidl()[1]:
        number, uidl = line.decode("ascii", errors="replace").split()[:2]
        listing[uidl] = (int(number), sizes.get(int(number), 0))
    return listing


def _session(
    pop: poplib.POP3,
    config: MailboxConfig,
    connector_id: str,
    state: MailState,
    sink: Sink,
    listing: dict[str, tuple[int, int]],
    todo: list[str],
    finished: Finished,
    report: PollReport,
) -> list[str]:
    """Work through `todo` in this session; returns what is left for the next one."""
    for start in range(0, len(todo), config.batch_size):
        deleted = False
        for uidl in todo[start : start + config.batch_size]:
            if uidl not in listing:
                continue  # removed by another client since the listing
            number, size = listing[uidl]
            key = pop3_key(uidl)
            with network(config):
                if size > config.max_message_bytes:
                    headers = b"\r\n".join(pop.top(number, 0)[1]) + b"\r\n"
                    item = parse_headers(headers, key, size, "too_large", uidl=uidl)
                else:
                    raw = b"\r\n".join(pop.retr(number)[1]) + b"\r\n"
                    item = parse_message(raw, key, config.take, uidl=uidl)
            report.count_fetch(1)
            disposition, outcome = deliver(
                item, connector_id, state, sink, config.on_failure, report
            )
            if disposition is Disposition.LEAVE:
                continue
            if disposition is Disposition.CONSUMED and config.delete_after_success:
                with network(config):
                    pop.dele(number)
                deleted = True
            finished.append((key, item.idempotency_key, outcome))
        if deleted:
            return todo[start + config.batch_size :]
    return []
