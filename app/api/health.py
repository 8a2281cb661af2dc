"""Liveness and readiness probes; no authentication."""

import shutil
from typing import Any

from litestar import Controller, Response, get

from agents.models import ModelNotFoundError, locate_embedding_model, locate_llm_model
from app.api.deps import QueueDep, ServicesDep


class HealthController(Controller):
    path = "/health"
    tags = ["health"]

    @get("/live", sync_to_thread=False)
    def live(self) -> dict[str, str]:
        """The process is up and serving requests."""
        return {"status": "live"}

    @get("/ready", sync_to_thread=True)
    def ready(self, services: ServicesDep, queue: QueueDep) -> Response[dict[str, Any]]:
        """System database open, queue running, models locatable, disk not full."""
        checks: dict[str, dict[str, Any]] = {}
        try:
            with services.system_db.read(timeout_ms=2000) as conn:
                conn.execute("SELECT count(*) FROM tenants").fetchone()
            checks["system_db"] = {"ok": True}
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            checks["system_db"] = {"ok": False, "detail": type(exc).__name__}
        if queue.consumes_here:
            checks["queue"] = {"ok": queue.running, "workers": services.settings.queue.workers}
        else:
            # `serve --no-workers`: worker processes consume; this one must reach the queue
            try:
                checks["queue"] = {"ok": True, "workers": 0, "pending": queue.pending()}
            except Exception as exc:  # noqa: BLE001 - any failure means not ready
                checks["queue"] = {"ok": False, "detail": type(exc).__name__}
        for name, locate, configured in (
            ("embedding_model", locate_embedding_model, services.settings.models.embedding_model),
            ("llm_model", locate_llm_model, services.settings.models.llm_model),
        ):
            try:
                found = locate(configured)
                checks[name] = {"ok": True, "name": found.name}
            except ModelNotFoundError as exc:
                checks[name] = {"ok": False, "detail": str(exc)}
        free_mb = shutil.disk_usage(services.data.root).free // (1024 * 1024)
        checks["disk"] = {
            "ok": free_mb >= services.settings.storage.min_free_disk_mb,
            "free_mb": free_mb,
        }
        ready = all(check["ok"] for check in checks.values())
        return Response(
            {"status": "ready" if ready else "not_ready", "checks": checks},
            status_code=200 if ready else 503,
        )
