"""Metrics read at scrape time: documents by state, database, blob and disk sizes, queue.

Reading them when Prometheus asks costs nothing between scrapes. The per-tenant part
(a query per tenant database, a walk of each blob folder) is cached for `cache_s`.
Documents received are counted from the ledger's `arrivals` rows, so the count covers
every source (upload, drop box, mail, hooks, CLI) and survives restarts.
"""

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from agents.telemetry.metrics import ALL_TENANTS, PREFIX
from app.observability.tenant_labels import TenantLabels
from storage.datadir import DataDir
from storage.tenants import TenantRegistry


def file_size(path: Path) -> int:
    """A SQLite file with its WAL; 0 when absent."""
    total = 0
    for candidate in (path, path.with_name(path.name + "-wal")):
        try:
            total += candidate.stat().st_size
        except OSError:
            pass
    return total


def tree_size(root: Path) -> int:
    total = 0
    for folder, _, files in os.walk(root):
        for name in files:
            try:
                total += os.stat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return total


class TenantFigures:
    """Per-tenant figures: documents by state, database and blob bytes (cached)."""

    def __init__(self, data: DataDir, tenants: TenantRegistry, cache_s: float) -> None:
        self.data = data
        self.tenants = tenants
        self.cache_s = cache_s
        self._at = -cache_s
        self._value: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def read(self, tenant_ids: list[str]) -> dict[str, dict[str, Any]]:
        with self._lock:
            if time.monotonic() - self._at >= self.cache_s:
                self._value = {tid: self._one(tid) for tid in tenant_ids}
                self._at = time.monotonic()
            return self._value

    def _one(self, tenant_id: str) -> dict[str, Any]:
        states: dict[str, int] = {}
        arrivals: dict[tuple[str, str], int] = {}
        try:
            with self.tenants.database(tenant_id).read() as conn:
                rows = conn.execute("SELECT state, count(*) FROM documents GROUP BY state")
                states = {state: int(n) for state, n in rows}
                rows = conn.execute(
                    "SELECT source, outcome, count(*) FROM arrivals GROUP BY source, outcome"
                )
                arrivals = {(source, outcome): int(n) for source, outcome, n in rows}
        except Exception:  # noqa: BLE001, S110 - a tenant being deleted has no figures
            pass
        return {
            "states": states,
            "arrivals": arrivals,
            "db_bytes": file_size(self.data.tenant_db(tenant_id)),
            "blob_bytes": tree_size(self.data.tenant_blobs(tenant_id)),
        }


class ApplianceCollector(Collector):
    """Yields the scrape-time gauges."""

    def __init__(
        self,
        data: DataDir,
        tenants: TenantRegistry,
        labels: TenantLabels,
        queue_status: Callable[[], dict[str, Any]],
        cache_s: float = 5.0,
    ) -> None:
        self.data = data
        self.labels = labels
        self.queue_status = queue_status
        self.figures = TenantFigures(data, tenants, cache_s)

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        yield from self._queue()
        yield from self._disk()
        yield from self._tenants()

    def _queue(self) -> Iterator[GaugeMetricFamily]:
        status = self.queue_status()
        yield GaugeMetricFamily(
            f"{PREFIX}_queue_depth", "Tasks waiting in the queue.", value=status["pending"]
        )
        yield GaugeMetricFamily(
            f"{PREFIX}_queue_workers", "Queue worker threads.", value=status["workers"]
        )
        yield GaugeMetricFamily(
            f"{PREFIX}_queue_busy_workers",
            "Queue workers running a task now.",
            value=status["busy_workers"],
        )
        yield GaugeMetricFamily(
            f"{PREFIX}_queue_running", "1 while the queue consumer runs.", value=status["running"]
        )

    def _disk(self) -> Iterator[GaugeMetricFamily]:
        usage = shutil.disk_usage(self.data.root)
        yield GaugeMetricFamily(
            f"{PREFIX}_disk_free_bytes", "Free space on the data directory's disk.", usage.free
        )
        yield GaugeMetricFamily(
            f"{PREFIX}_disk_size_bytes", "Size of the data directory's disk.", usage.total
        )
        sizes = GaugeMetricFamily(
            f"{PREFIX}_database_size_bytes",
            "Size of the appliance's own databases (with WAL).",
            labels=["database"],
        )
        sizes.add_metric(["system"], file_size(self.data.system_db))
        sizes.add_metric(["queue"], file_size(self.data.queue_db))
        yield sizes

    def _tenants(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        slugs = self.labels.slugs()
        per_tenant = len(slugs) <= self.labels.limit
        figures = self.figures.read(sorted(slugs))
        documents = GaugeMetricFamily(
            f"{PREFIX}_documents", "Documents by state and tenant.", labels=["state", "tenant"]
        )
        db_bytes = GaugeMetricFamily(
            f"{PREFIX}_tenant_database_size_bytes",
            "Tenant database size (with WAL).",
            labels=["tenant"],
        )
        blob_bytes = GaugeMetricFamily(
            f"{PREFIX}_blob_size_bytes", "Encrypted blob bytes by tenant.", labels=["tenant"]
        )
        received = CounterMetricFamily(
            f"{PREFIX}_ingest_documents",
            "Documents received (the ledger's arrivals), by source, outcome and tenant.",
            labels=["source", "outcome", "tenant"],
        )
        counts: dict[tuple[str, str], int] = {}
        arrivals: dict[tuple[str, str, str], int] = {}
        sizes: dict[str, list[int]] = {}
        for tenant_id, figure in figures.items():
            label = slugs.get(tenant_id, ALL_TENANTS) if per_tenant else ALL_TENANTS
            for state, n in figure["states"].items():
                counts[(state, label)] = counts.get((state, label), 0) + n
            for (source, outcome), n in figure["arrivals"].items():
                key = (source, outcome, label)
                arrivals[key] = arrivals.get(key, 0) + n
            both = sizes.setdefault(label, [0, 0])
            both[0] += figure["db_bytes"]
            both[1] += figure["blob_bytes"]
        for (state, label), n in sorted(counts.items()):
            documents.add_metric([state, label], n)
        for label, (db, blobs) in sorted(sizes.items()):
            db_bytes.add_metric([label], db)
            blob_bytes.add_metric([label], blobs)
        for key, n in sorted(arrivals.items()):
            received.add_metric(list(key), n)
        yield documents
        yield received
        yield db_bytes
        yield blob_bytes
