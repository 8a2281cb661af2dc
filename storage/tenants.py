"""Tenant lifecycle: create with a fresh wrapped key, open its database, delete it."""

import re
import shutil
import threading
import uuid

from storage import crypto
from storage.blobs import BlobStore
from storage.database import Database, DatabaseOptions
from storage.datadir import DataDir
from storage.errors import StorageError
from storage.masterkey import MasterKey
from storage.records import TenantRecord
from storage.system_store import SystemStore
from storage.tenant_schema import tenant_migrations

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class InvalidSlugError(StorageError):
    status_code = 400
    code = "invalid_slug"


def wrap_context(tenant_id: str) -> str:
    return f"tenant-key:{tenant_id}"


class TenantRegistry:
    """Opens each tenant's database once per process (one writer per file) and caches it."""

    def __init__(
        self, data: DataDir, system: SystemStore, master: MasterKey, options: DatabaseOptions
    ) -> None:
        self.data = data
        self.system = system
        self._master = master
        self._options = DatabaseOptions(
            busy_timeout_ms=options.busy_timeout_ms,
            query_timeout_ms=options.query_timeout_ms,
            cache_size_kib=options.cache_size_kib,
            synchronous=options.synchronous,
            load_vec=True,
            wal_max_bytes=options.wal_max_bytes,
        )
        self._open: dict[str, Database] = {}
        self._blobs: dict[str, BlobStore] = {}
        self._lock = threading.Lock()

    def create(self, slug: str, name: str | None = None) -> TenantRecord:
        """A new tenant: random data key, wrapped under the master key, empty database."""
        if not _SLUG.fullmatch(slug):
            raise InvalidSlugError(
                f"tenant name {slug!r} must be 1-63 lowercase letters, digits or '-'"
            )
        tenant_id = uuid.uuid4().hex
        key = crypto.random_key()
        wrapped = crypto.wrap(self._master.wrapping_key, key, wrap_context(tenant_id))
        record = self.system.insert_tenant(slug, name or slug, wrapped, tenant_id)
        try:
            self.data.tenant_blobs(tenant_id).mkdir(parents=True, exist_ok=True)
            self.database(tenant_id)
        except BaseException:
            self.system.delete_tenant_row(tenant_id)
            shutil.rmtree(self.data.tenant_dir(tenant_id), ignore_errors=True)
            raise
        return record

    def data_key(self, tenant_id: str) -> bytes:
        wrapped = self.system.wrapped_key(tenant_id)
        return crypto.unwrap(self._master.wrapping_key, wrapped, wrap_context(tenant_id))

    def database(self, tenant_id: str) -> Database:
        """The process-wide Database of one tenant, opened (and migrated) on first use."""
        with self._lock:
            db = self._open.get(tenant_id)
            if db is None:
                db = Database(
                    self.data.tenant_db(tenant_id),
                    self.data_key(tenant_id),
                    self._options,
                    tenant_migrations,
                    label=f"tenant {tenant_id[:8]} database",
                )
                self._open[tenant_id] = db
            return db

    def blobs(self, tenant_id: str) -> BlobStore:
        """The tenant's blob store; cached, as unwrapping its key costs a query and AES-GCM."""
        with self._lock:
            store = self._blobs.get(tenant_id)
        if store is None:
            store = BlobStore(self.data.tenant_blobs(tenant_id), self.data_key(tenant_id))
            with self._lock:
                store = self._blobs.setdefault(tenant_id, store)
        return store

    def delete(self, tenant_id: str) -> None:
        """Destroy the wrapped key first (the data is unreadable from then on), then the files."""
        with self._lock:
            db = self._open.pop(tenant_id, None)
            self._blobs.pop(tenant_id, None)
        if db is not None:
            db.close()
        self.system.delete_tenant_row(tenant_id)
        shutil.rmtree(self.data.tenant_dir(tenant_id), ignore_errors=True)

    def close(self) -> None:
        with self._lock:
            dbs, self._open = list(self._open.values()), {}
            self._blobs.clear()
        for db in dbs:
            db.close()

    def replace_master(self, master: MasterKey) -> None:
        self._master = master
