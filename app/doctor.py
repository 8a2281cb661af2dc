"""`appliance doctor`: a self-check of keys, database integrity, models and disk."""

import shutil
from dataclasses import dataclass

from agents.analyze.remote_embedding import RemoteEmbedder
from agents.models import (
    ModelNotFoundError,
    locate_embedding_model,
    locate_llm_model,
)
from app.inference_wiring import build_llm_pool, remote_embedding_config
from app.services import Services
from app.settings import Settings
from storage.errors import StorageError
from storage.integrity import check_blobs, check_database


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def inference_checks(settings: Settings) -> list[Check]:
    """Each inference server in use answers `GET /v1/models` (addresses without credentials)."""
    pool = build_llm_pool(settings)
    found = []
    if pool is not None:
        for state in pool.health(max_age_s=0):
            found.append(Check(f"LLM server {state.url}", state.up, state.detail or "answers"))
    remote = remote_embedding_config(settings)
    if remote is not None:
        embedder = RemoteEmbedder(remote)
        problem = embedder.check_health()
        embedder.close()
        found.append(
            Check(f"embedding server {embedder.endpoint}", problem is None, problem or "answers")
        )
    return found


def run_checks(services: Services, decrypt_blobs: bool = True) -> list[Check]:
    checks = [Check("master key", True, "loaded and verified")]
    data, master = services.data, services.master
    problems = check_database(data.system_db, master.system_db_key)
    checks.append(Check("system.db", not problems, "; ".join(problems[:3]) or "integrity ok"))
    if data.queue_db.exists():
        problems = check_database(data.queue_db, master.queue_db_key)
        checks.append(Check("queue.db", not problems, "; ".join(problems[:3]) or "integrity ok"))
    known = set()
    for tenant in services.system.list_tenants():
        known.add(tenant.id)
        label = f"tenant {tenant.slug}"
        try:
            key = services.tenants.data_key(tenant.id)
        except StorageError as exc:
            checks.append(Check(f"{label} key", False, str(exc)))
            continue
        problems = check_database(data.tenant_db(tenant.id), key)
        checks.append(
            Check(f"{label} database", not problems, "; ".join(problems[:3]) or "integrity ok")
        )
        if decrypt_blobs:
            problems = check_blobs(services.tenants.blobs(tenant.id))
            checks.append(
                Check(f"{label} blobs", not problems, "; ".join(problems[:3]) or "all decrypt")
            )
    if data.tenants_dir.is_dir():
        orphans = [p.name for p in data.tenants_dir.iterdir() if p.is_dir() and p.name not in known]
        if orphans:
            checks.append(Check("tenant folders", False, f"no tenant owns {', '.join(orphans)}"))
    models = services.settings.models
    local = [("embedding model", locate_embedding_model, models.embedding_model)]
    if models.llm_backend == "llama":
        local.append(("LLM model", locate_llm_model, models.llm_model))
    checks += inference_checks(services.settings)
    for name, locate, configured in local:
        try:
            found = locate(configured)
            checks.append(Check(name, True, f"{found.name} at {found.path}"))
        except ModelNotFoundError as exc:
            checks.append(Check(name, False, str(exc)))
    free_mb = shutil.disk_usage(data.root).free // (1024 * 1024)
    minimum = services.settings.storage.min_free_disk_mb
    checks.append(Check("free disk", free_mb >= minimum, f"{free_mb} MiB free (minimum {minimum})"))
    return checks
