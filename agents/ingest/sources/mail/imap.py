"""Polling one IMAP folder: search, fetch in bounded batches, hand to the sink, then act.

Memory is bounded by the batch, not the mailbox: only the UID list of the search is
held for the whole poll, and each FETCH downloads at most `batch_size` messages and at
most `max_batch_bytes` (sizes are asked for first). BODY.PEEK[] is used so downloading
never sets \\Seen by itself; flags change only after the sink reported success.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

from imapclient import DELETED, SEEN, IMAPClient

from agents.ingest.sources.mail.config import MailboxConfig
from agents.ingest.sources.mail.connect import imap_session, network
from agents.ingest.sources.mail.errors import MailFolderMissingError
from agents.ingest.sources.mail.message import MailItem, parse_headers, parse_message
from agents.ingest.sources.mail.state import (
    Disposition,
    MailState,
    Outcome,
    PollReport,
    Sink,
    deliver,
)

log = logging.getLogger(__name__)

_BODY = b"BODY[]"
_HEADER = b"BODY[HEADER]"
_SIZE = b"RFC822.SIZE"


def imap_key(folder: str, uidvalidity: int, uid: int) -> str:
    """The `MailState` key of one message: UIDs mean something only with their UIDVALIDITY."""
    return f"imap:{folder}:{uidvalidity}:{uid}"


def poll_imap(
    config: MailboxConfig,
    connector_id: str,
    state: MailState,
    sink: Sink,
    limit: int | None = None,
) -> PollReport:
    """Ingest the messages of `config.folder` matching `config.search` (see `poll`)."""
    report = PollReport()
    with imap_session(config) as client:
        with network(config):
            _require_folders(client, config)
            # EXAMINE when nothing is to change at the server, so nothing can.
            selected = client.select_folder(config.folder, readonly=config.after_success == "none")
            uidvalidity = int(selected[b"UIDVALIDITY"])
            uids = sorted(int(uid) for uid in client.search(list(config.search)))
        previous = state.uidvalidity(connector_id, config.folder)
        if previous != uidvalidity:
            report.uidvalidity_changed = previous is not None
            if report.uidvalidity_changed:
                # Every UID may now name another message; Message-ID idempotency keeps
                # already stored mails from being stored again.
                log.warning(
                    "UIDVALIDITY of %s on %s changed (%s -> %s): rescanning",
                    config.folder,
                    config.describe(),
                    previous,
                    uidvalidity,
                )
            state.set_uidvalidity(connector_id, config.folder, uidvalidity)
        pending = [
            uid
            for uid in uids
            if not state.is_done(connector_id, imap_key(config.folder, uidvalidity, uid))
        ]
        report.skipped = len(uids) - len(pending)
        if limit is not None:
            pending = pending[:limit]
        for start in range(0, len(pending), config.batch_size):
            batch = pending[start : start + config.batch_size]
            _batch(client, config, connector_id, state, sink, uidvalidity, batch, report)
    return report


def check_imap(config: MailboxConfig) -> str:
    """Log in, open the folder read-only and count; returns a sentence for the user."""
    with imap_session(config) as client, network(config):
        _require_folders(client, config)
        selected = client.select_folder(config.folder, readonly=True)
        matching = len(client.search(list(config.search)))
    total = int(selected.get(b"EXISTS", 0))
    return (
        f"Connected to {config.describe()}; folder {config.folder!r} has {total} "
        f"message(s), {matching} matching the search."
    )


def _require_folders(client: IMAPClient, config: MailboxConfig) -> None:
    # Checked before anything is stored: a missing move target would otherwise leave
    # stored messages in place, to be fetched again on every poll.
    wanted = [config.folder] + ([config.move_to] if config.after_success == "move" else [])
    for folder in wanted:
        if folder and not client.folder_exists(folder):
            raise MailFolderMissingError(
                f"The folder {folder!r} does not exist on {config.describe()}."
            )


def _batch(
    client: IMAPClient,
    config: MailboxConfig,
    connector_id: str,
    state: MailState,
    sink: Sink,
    uidvalidity: int,
    batch: list[int],
    report: PollReport,
) -> None:
    with network(config):
        sizes = client.fetch(batch, ["RFC822.SIZE"])
    # A UID missing from the answer was expunged meanwhile by another client.
    size_of = {uid: int(sizes[uid][_SIZE]) for uid in batch if uid in sizes}
    fits = [(uid, size) for uid, size in size_of.items() if size <= config.max_message_bytes]
    too_large = [uid for uid, size in size_of.items() if size > config.max_message_bytes]
    finished: list[tuple[int, str, str, Disposition, Outcome]] = []
    where = {"folder": config.folder, "uidvalidity": uidvalidity}

    def hand_on(uid: int, item: MailItem) -> None:
        disposition, outcome = deliver(item, connector_id, state, sink, config.on_failure, report)
        if disposition is not Disposition.LEAVE:
            finished.append((uid, item.key, item.idempotency_key, disposition, outcome))

    for group in _by_bytes(fits, config.max_batch_bytes):
        with network(config):
            data = client.fetch(group, ["BODY.PEEK[]"])
        report.count_fetch(len(data))
        for uid in group:
            entry = data.pop(uid, None)  # pop: free each message once it is handed on
            if entry is not None and _BODY in entry:
                key = imap_key(config.folder, uidvalidity, uid)
                hand_on(uid, parse_message(entry[_BODY], key, config.take, uid=uid, **where))
    if too_large:
        with network(config):
            data = client.fetch(too_large, ["BODY.PEEK[HEADER]"])
        report.count_fetch(len(data))
        for uid in too_large:
            if uid in data and _HEADER in data[uid]:
                key = imap_key(config.folder, uidvalidity, uid)
                item = parse_headers(
                    data[uid][_HEADER], key, size_of[uid], "too_large", uid=uid, **where
                )
                hand_on(uid, item)
    _act(client, config, finished)
    for _uid, key, idempotency_key, _disposition, outcome in finished:
        state.mark_done(connector_id, key, idempotency_key, outcome)


def _by_bytes(sized: Sequence[tuple[int, int]], budget: int) -> Iterator[list[int]]:
    group: list[int] = []
    total = 0
    for uid, size in sized:
        if group and total + size > budget:
            yield group
            group, total = [], 0
        group.append(uid)
        total += size
    if group:
        yield group


def _act(
    client: IMAPClient,
    config: MailboxConfig,
    finished: list[tuple[int, str, str, Disposition, Outcome]],
) -> None:
    """The after-success action for one batch, in as few commands as possible."""
    consumed = [uid for uid, _k, _i, d, _o in finished if d is Disposition.CONSUMED]
    recorded = [uid for uid, _k, _i, d, _o in finished if d is Disposition.RECORDED]
    action = config.after_success
    if action == "none" or not (consumed or recorded):
        return
    with network(config):
        if action == "mark_seen":
            client.add_flags(consumed + recorded, [SEEN], silent=True)
        elif action == "move":
            _move(client, consumed + recorded, str(config.move_to))
        elif action == "delete":
            # A message whose content was not stored is never deleted, only flagged.
            if recorded:
                client.add_flags(recorded, [SEEN], silent=True)
            if consumed:
                client.add_flags(consumed, [DELETED], silent=True)
                _expunge(client, consumed)


def _move(client: IMAPClient, uids: list[int], folder: str) -> None:
    if client.has_capability("MOVE"):
        client.move(uids, folder)
        return
    client.copy(uids, folder)
    client.add_flags(uids, [DELETED], silent=True)
    _expunge(client, uids)


def _expunge(client: IMAPClient, uids: list[int]) -> None:
    if client.has_capability("UIDPLUS"):
        client.uid_expunge(uids)
    else:
        # Without UIDPLUS, EXPUNGE also removes messages another client marked \Deleted.
        client.expunge()
