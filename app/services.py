"""The composition root's container: opens every long-lived service once, closes them."""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from app.settings import Settings
from storage import masterkey, rotation
from storage.database import Database, DatabaseOptions
from storage.datadir import DataDir
from storage.masterkey import MasterKey, PassphraseSource
from storage.system_schema import system_migrations
from storage.system_store import SystemStore
from storage.tenants import TenantRegistry

log = logging.getLogger("appliance.services")


def database_options(settings: Settings) -> DatabaseOptions:
    return DatabaseOptions(
        busy_timeout_ms=settings.storage.busy_timeout_ms,
        query_timeout_ms=settings.storage.query_timeout_ms,
        cache_size_kib=settings.storage.cache_size_mb * 1024,
        synchronous=settings.storage.synchronous,
        wal_max_bytes=settings.storage.wal_max_mb * 2**20,
    )


@dataclass
class Services:
    """Everything handlers and commands need, built once and passed explicitly."""

    settings: Settings
    data: DataDir
    master: MasterKey
    system_db: Database
    system: SystemStore
    tenants: TenantRegistry
    started_at: float = field(default_factory=time.monotonic)
    _closers: list[Callable[[], None]] = field(default_factory=list)

    def on_close(self, closer: Callable[[], None]) -> None:
        """Run `closer` when the services close (worker pools, models)."""
        self._closers.append(closer)

    def close(self) -> None:
        while self._closers:
            try:
                self._closers.pop()()
            except Exception:
                log.exception("error while closing a service")
        self.tenants.close()
        self.system.close()
        self.system_db.close()


def open_system_db(data: DataDir, master: MasterKey, settings: Settings) -> Database:
    return Database(
        data.system_db,
        master.system_db_key,
        database_options(settings),
        system_migrations,
        label="system.db",
    )


def _finish_interrupted_rotation(data: DataDir, master: MasterKey, settings: Settings) -> MasterKey:
    interrupted = masterkey.pending(data)
    if interrupted is None:
        return master
    new, passphrase_kdf = interrupted
    if new == master:
        # keyinfo already moved on; only the pending file is left over
        masterkey.clear_pending(data)
        return master
    log.warning("finishing an interrupted master key rotation")
    current = rotation.open_system_db_during_rotation(data.system_db, master, new)
    system_db = open_system_db(data, current, settings)
    try:
        # every step of rotate() skips what an earlier run already finished
        rotation.rotate(data, system_db, master, new, passphrase_kdf)
    finally:
        system_db.close()
    return new


def open_services(settings: Settings, passphrase: PassphraseSource | None) -> Services:
    """Load the master key and open the system database; tenants open lazily."""
    data = DataDir(settings.data_dir)
    data.require_initialised()
    master = masterkey.load(data, passphrase)
    master = _finish_interrupted_rotation(data, master, settings)
    system_db = open_system_db(data, master, settings)
    system = SystemStore(system_db)
    tenants = TenantRegistry(data, system, master, database_options(settings))
    return Services(settings, data, master, system_db, system, tenants)
