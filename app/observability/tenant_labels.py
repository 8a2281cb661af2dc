"""The `tenant` label value: the tenant's slug while there are few tenants, else "all"."""

import threading
import time

from agents.telemetry.metrics import ALL_TENANTS
from storage.system_store import SystemStore

REFRESH_S = 60.0


class TenantLabels:
    """Maps tenant ids to label values; re-reads the tenant list at most once a minute
    (and when an unknown id shows up, so a new tenant gets its slug at once)."""

    def __init__(self, system: SystemStore, limit: int) -> None:
        self.system = system
        self.limit = limit
        self._slugs: dict[str, str] = {}
        self._read_at = -REFRESH_S
        self._lock = threading.Lock()

    def slugs(self) -> dict[str, str]:
        """Tenant id -> slug of every tenant (fresh within a minute)."""
        with self._lock:
            if time.monotonic() - self._read_at >= REFRESH_S:
                self._slugs = {t.id: t.slug for t in self.system.list_tenants()}
                self._read_at = time.monotonic()
            return self._slugs

    def per_tenant(self) -> bool:
        """Whether labels name tenants (their number is within the setting)."""
        return len(self.slugs()) <= self.limit

    def label(self, tenant_id: str) -> str:
        slugs = self.slugs()
        if tenant_id not in slugs:
            with self._lock:
                self._read_at = -REFRESH_S
            slugs = self.slugs()
        if len(slugs) > self.limit:
            return ALL_TENANTS
        return slugs.get(tenant_id, ALL_TENANTS)
