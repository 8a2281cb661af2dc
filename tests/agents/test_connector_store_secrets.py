"""ConnectorStore and TenantMailState over a real SQLCipher tenant database."""

import json
import time
from collections.abc import Iterator

import pytest

from agents.ingest.sources.connectors import ConnectorConfigError, ConnectorStore, public
from agents.ingest.sources.mail_ingest import MailScheduler, TenantMailState
from app.services import Services
from storage.database import Database
from storage.errors import ConflictError, WrongKeyError

PASSWORD = "CANARY-store-password-6d2f"
MAIL = {"host": "mail.example.test", "username": "office"}


@pytest.fixture
def tenant(services: Services) -> Iterator[tuple[str, Database, bytes]]:
    record = services.tenants.create("store-test")
    yield record.id, services.tenants.database(record.id), services.tenants.data_key(record.id)


@pytest.fixture
def store(tenant: tuple[str, Database, bytes]) -> ConnectorStore:
    return ConnectorStore(tenant[1], tenant[2])


def test_the_password_is_sealed_and_only_secrets_returns_it(
    store: ConnectorStore, tenant: tuple[str, Database, bytes]
) -> None:
    # WHEN a mailbox is created with its password inside `config`
    record = store.create("imap", "box", {**MAIL, "password": PASSWORD})
    # THEN the row holds no password in the clear, only a sealed blob
    with tenant[1].read() as conn:
        config, sealed = conn.execute("SELECT config, secret FROM connectors").fetchone()
    assert PASSWORD not in config and PASSWORD.encode() not in bytes(sealed)
    # AND the record and its public form only say that it is set
    assert record.secrets_set == {"password"}
    assert public(record)["config"]["password"] == {"set": True}
    assert PASSWORD not in json.dumps(public(record)) and PASSWORD not in repr(record)
    # AND the poller gets it back, as a MailboxConfig that hides it from repr
    _, mail_config = store.mailbox(record.id)
    assert mail_config.password == PASSWORD and PASSWORD not in repr(mail_config)
    assert store.secrets(record.id) == {"password": PASSWORD}


def test_a_sealed_secret_opens_only_for_its_own_connector_and_tenant_key(
    store: ConnectorStore, tenant: tuple[str, Database, bytes]
) -> None:
    # GIVEN two mailboxes, the first one's sealed password copied onto the second row
    first = store.create("imap", "first", MAIL, {"password": PASSWORD})
    second = store.create("imap", "second", MAIL, {"password": "other-password"})
    with tenant[1].write() as conn:
        conn.execute(
            "UPDATE connectors SET secret = (SELECT secret FROM connectors WHERE id = ?) "
            "WHERE id = ?",
            (first.id, second.id),
        )
    # THEN it does not open there (the connector id is bound as associated data)
    with pytest.raises(WrongKeyError):
        store.secrets(second.id)
    # AND another key cannot open the first one either
    with pytest.raises(WrongKeyError):
        ConnectorStore(tenant[1], b"\x01" * 32).secrets(first.id)


def test_updates_keep_omitted_secrets_and_validate_the_result(store: ConnectorStore) -> None:
    record = store.create("imap", "box", MAIL, {"password": PASSWORD})
    # WHEN only the settings change; THEN the password stays
    store.update(record.id, config={**MAIL, "folder": "Archive"})
    assert store.secrets(record.id) == {"password": PASSWORD}
    assert store.get(record.id).config["folder"] == "Archive"
    # WHEN the update is invalid; THEN nothing changes
    with pytest.raises(ConnectorConfigError, match="security"):
        store.update(record.id, config={**MAIL, "security": "none"})
    with pytest.raises(ConnectorConfigError, match="password"):
        store.update(record.id, secrets={"password": None})
    assert store.get(record.id).config["security"] == "tls"
    # AND names are unique
    store.create("pop3", "other", MAIL, {"password": PASSWORD})
    with pytest.raises(ConflictError):
        store.update(record.id, name="other")


def test_deleting_a_connector_removes_its_mail_progress(
    store: ConnectorStore, tenant: tuple[str, Database, bytes]
) -> None:
    record = store.create("imap", "box", MAIL, {"password": PASSWORD})
    state = TenantMailState(tenant[1])
    state.set_uidvalidity(record.id, "INBOX", 7)
    state.mark_done(record.id, "imap:INBOX:7:1", "<a@b> h", "stored")
    store.delete(record.id)
    with tenant[1].read() as conn:
        left = [
            conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("connectors", "mail_state", "mail_folders")
        ]
    assert left == [0, 0, 0]


def test_mail_state_knows_stored_mails_but_not_recorded_failures(
    store: ConnectorStore, tenant: tuple[str, Database, bytes]
) -> None:
    cid = store.create("imap", "box", MAIL, {"password": PASSWORD}).id
    state = TenantMailState(tenant[1], {"<empty@x> e": "empty"})
    # GIVEN a folder's UIDVALIDITY and three finished mails
    assert state.uidvalidity(cid, "INBOX") is None
    state.set_uidvalidity(cid, "INBOX", 5)
    state.set_uidvalidity(cid, "INBOX", 6)
    state.mark_done(cid, "imap:INBOX:6:1", "<ok@x> h", "stored")
    state.mark_done(cid, "imap:INBOX:6:2", "<empty@x> e", "stored")
    state.mark_done(cid, "imap:INBOX:6:3", "<bad@x> h", "failed")
    # THEN they are done, the empty one recorded as such
    assert state.uidvalidity(cid, "INBOX") == 6
    assert all(state.is_done(cid, f"imap:INBOX:6:{n}") for n in (1, 2, 3))
    assert not state.is_done(cid, "imap:INBOX:6:4")
    with tenant[1].read() as conn:
        outcomes = dict(conn.execute("SELECT key, outcome FROM mail_state").fetchall())
    assert outcomes["imap:INBOX:6:2"] == "empty"
    # AND only stored (or empty) mails count as seen: a recorded failure is not consumed
    assert state.seen_message(cid, "<ok@x> h") and state.seen_message(cid, "<empty@x> e")
    assert not state.seen_message(cid, "<bad@x> h")


def test_the_scheduler_finds_enabled_mailboxes_not_polled_within_the_interval(
    services: Services, store: ConnectorStore, tenant: tuple[str, Database, bytes]
) -> None:
    now = [1_900_000_000.0]
    scheduler = MailScheduler(services.tenants, 5, clock=lambda: now[0])
    box = store.create("imap", "box", MAIL, {"password": PASSWORD})
    store.create("pop3", "off", MAIL, {"password": PASSWORD}, enabled=False)
    store.create("hook", "crm", {}, {"token": "t" * 20})
    # THEN the never-polled enabled mailbox is due, once, until its task starts
    assert scheduler.due() == [(tenant[0], box.id)]
    queued: list[tuple[str, str]] = []
    assert scheduler.enqueue_due(lambda *slot: queued.append(slot)) == 1
    assert scheduler.enqueue_due(lambda *slot: queued.append(slot)) == 0
    scheduler.started(tenant[0], box.id)
    # WHEN it ran just now; THEN it is due again only after the interval
    store.record_run(box.id, "ok", "0 stored")
    now[0] = time.time() + 60
    assert scheduler.due() == []
    now[0] += 5 * 60
    assert scheduler.due() == [(tenant[0], box.id)]
    # AND an interval of 0 turns scheduled polling off
    assert MailScheduler(services.tenants, 0).due() == []
