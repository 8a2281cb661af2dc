"""Encrypted storage: keys, SQLCipher databases, migrations, blobs, queue storage.

`storage` depends on no other package of the appliance; callers pass what it needs.
"""

from storage.blobs import BlobStore
from storage.database import Database, DatabaseOptions
from storage.datadir import DataDir
from storage.errors import StorageError
from storage.masterkey import MasterKey
from storage.system_store import SystemStore
from storage.tenants import TenantRegistry

__all__ = [
    "BlobStore",
    "DataDir",
    "Database",
    "DatabaseOptions",
    "MasterKey",
    "StorageError",
    "SystemStore",
    "TenantRegistry",
]
