"""Liveness and readiness probes; no authentication."""

import shutil
from typing import Any

from litestar import Controller, Response, get

from agents.models import ModelNotFoundError, locate_embedding_model, locate_llm_model
from app.api.deps import QueueDep, RuntimeDep, ServicesDep


class HealthController(Controller):
    path = "/health"
    tags = ["health"]

    @get("/live", sync_to_thread=False)
    def live(self) -> dict[str, str]:
        """The process is up and serving requests."""
        return {"status": "live"}

    @get("/ready", sync_to_thread=True)
    def ready(
        self, services: ServicesDep, queue: QueueDep, runtime: RuntimeDep
    ) -> Response[dict[str, Any]]:
        """System database open, queue running, models locatable (or their inference
        servers answering), disk not full.

        503 names what is wrong; `reason` says it in plain words (e.g. a full disk, while
        the appliance serves reading and deletion and refuses new documents)."""
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
        models = services.settings.models
        local = [("embedding_model", locate_embedding_model, models.embedding_model)]
        if models.llm_backend == "llama":
            local.append(("llm_model", locate_llm_model, models.llm_model))
        for name, locate, configured in local:
            try:
                found = locate(configured)
                checks[name] = {"ok": True, "name": found.name}
            except ModelNotFoundError as exc:
                checks[name] = {"ok": False, "detail": str(exc)}
        if runtime.inference is not None:
            checks.update(runtime.inference.checks())
        free_mb = shutil.disk_usage(services.data.root).free // (1024 * 1024)
        checks["disk"] = {
            "ok": free_mb >= services.settings.storage.min_free_disk_mb,
            "free_mb": free_mb,
        }
        intake = runtime.space.reason()
        checks["intake"] = {"ok": intake is None, **({"detail": intake} if intake else {})}
        ready = all(check["ok"] for check in checks.values())
        body: dict[str, Any] = {"status": "ready" if ready else "not_ready", "checks": checks}
        if not ready:
            body["reason"] = intake or "; ".join(
                f"{name}: {check.get('detail', 'not ok')}"
                for name, check in checks.items()
                if not check["ok"]
            )
        return Response(
            body,
            status_code=200 if ready else 503,
        )
