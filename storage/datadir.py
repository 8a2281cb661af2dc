"""Where every file of the appliance lives under the data directory."""

import os
from dataclasses import dataclass
from pathlib import Path

from storage.errors import DataDirError


@dataclass(frozen=True)
class DataDir:
    """Paths under `<data>`; the one place that knows the layout."""

    root: Path

    @property
    def system_db(self) -> Path:
        return self.root / "system.db"

    @property
    def queue_db(self) -> Path:
        return self.root / "queue.db"

    @property
    def master_key_file(self) -> Path:
        return self.root / "master.key"

    @property
    def pending_master_key_file(self) -> Path:
        return self.root / "master.key.new"

    @property
    def key_info_file(self) -> Path:
        return self.root / "keyinfo.json"

    @property
    def tenants_dir(self) -> Path:
        return self.root / "tenants"

    @property
    def inbox_dir(self) -> Path:
        return self.root / "inbox"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def tls_dir(self) -> Path:
        return self.root / "tls"

    @property
    def scratch_dir(self) -> Path:
        """Working directories of the parser processes (nothing outside <data> is written)."""
        return self.root / "tmp"

    def tenant_dir(self, tenant_id: str) -> Path:
        return self.tenants_dir / tenant_id

    def tenant_db(self, tenant_id: str) -> Path:
        return self.tenant_dir(tenant_id) / "tenant.db"

    def tenant_blobs(self, tenant_id: str) -> Path:
        return self.tenant_dir(tenant_id) / "blobs"

    def is_initialised(self) -> bool:
        return self.system_db.exists() and self.key_info_file.exists()

    def require_initialised(self) -> None:
        """Fail with a clear message unless `appliance init` has run here."""
        if not self.root.is_dir():
            raise DataDirError(f"data directory {self.root} does not exist; run 'appliance init'")
        if not self.is_initialised():
            raise DataDirError(
                f"{self.root} is not an initialised data directory; run 'appliance init'"
            )
        if not os.access(self.root, os.W_OK):
            raise DataDirError(f"data directory {self.root} is not writable")

    def require_writable_parent(self) -> None:
        """Before creating the directory: its nearest existing ancestor must be writable."""
        probe = self.root
        while not probe.exists():
            probe = probe.parent
        if not os.access(probe, os.W_OK):
            raise DataDirError(f"cannot write to {probe}: permission denied")
