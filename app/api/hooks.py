"""POST /tenants/{tenant}/hooks/{hook_id}: inbound events from CRM/ERP/webhook senders.

No user signs in here. The tenant guard (opt "hook") requires hook credentials and
resolves the tenant; this handler finds the hook, checks the signature or token against
its sealed secret (agents.ingest.sources.hooks), refuses replays, and stores each JSON record as
a document (source "hook", source_ref the hook id), answering 202 with the documents.

Answers: 401 missing/wrong signature or token, stale timestamp, replay (each rejection
is written to the audit log); 404 `no such tenant` for an unknown tenant, an unknown
or disabled hook, or a connector that is not a hook, all with the same body; 400 for a
body that is not a JSON object or array of objects; 413 over MAX_HOOK_BODY. A signed
delivery answered with a server error is forgotten, so the sender may retry it as it was.
"""

import re
import time
from typing import Any

import anyio
from litestar import Controller, Request, post
from litestar.params import FromPath
from litestar.status_codes import HTTP_202_ACCEPTED

from agents.ingest.sources.connectors import ConnectorRecord, ConnectorStore
from agents.ingest.sources.hook_delivery import store_records
from agents.ingest.sources.hooks import (
    HookAuthError,
    HookCredentials,
    Verified,
    forget_delivery,
    records_of,
    remember_delivery,
    verify,
)
from app.api.deps import ClientDep, HookTenantDep, IngestDep, ServicesDep, SettingsDep
from app.api.limits import check_json_depth
from app.auth.tenant_access import TenantNotFound
from app.services import Services
from storage.errors import NotFoundError
from storage.records import TenantRecord

MAX_HOOK_BODY = 5 * 1024 * 1024
_NAME_CHARS = re.compile(r"[^\w.-]+")


def _hook(
    services: Services, tenant: TenantRecord, hook_id: str
) -> tuple[ConnectorStore, ConnectorRecord, dict[str, str]]:
    """The enabled hook `hook_id` of `tenant` and its secrets; else the unknown-tenant 404."""
    store = ConnectorStore(
        services.tenants.database(tenant.id), services.tenants.data_key(tenant.id)
    )
    try:
        record = store.get(hook_id)
    except NotFoundError:
        raise TenantNotFound() from None
    if record.kind != "hook" or not record.enabled:
        raise TenantNotFound()
    return store, record, store.secrets(hook_id)


def _reject(
    services: Services,
    tenant: TenantRecord,
    hook: ConnectorRecord,
    client: str,
    error: HookAuthError,
) -> None:
    services.system.audit(
        "hook.rejected",
        actor=f"hook:{hook.name}",
        tenant_id=tenant.id,
        target=hook.id,
        client=client,
        outcome="denied",
        detail={"reason": error.message},
    )


class HooksController(Controller):
    path = "/hooks"
    tags = ["hooks"]

    @post(
        "/{hook_id:str}",
        status_code=HTTP_202_ACCEPTED,
        request_max_body_size=MAX_HOOK_BODY,
        opt={"hook": True},
    )
    async def deliver(
        self,
        request: Request[Any, Any, Any],
        hook_id: FromPath[str],
        hook_tenant: HookTenantDep,
        services: ServicesDep,
        settings: SettingsDep,
        ingest: IngestDep,
        client: ClientDep,
    ) -> dict[str, Any]:
        """Accept signed JSON records (an object or an array of objects) as documents."""
        store, hook, secrets = await anyio.to_thread.run_sync(_hook, services, hook_tenant, hook_id)
        body = await request.body()
        tolerance = settings.ingest.hook_timestamp_tolerance_s
        try:
            verified: Verified = verify(
                HookCredentials.from_headers(request.headers),
                secrets,
                body,
                now=time.time(),
                tolerance_s=tolerance,
            )
            check_json_depth(body)
            records = records_of(body)
            if verified.fingerprint:
                await anyio.to_thread.run_sync(
                    remember_delivery, store.db, hook.id, verified.fingerprint, tolerance
                )
        except HookAuthError as error:
            await anyio.to_thread.run_sync(_reject, services, hook_tenant, hook, client, error)
            raise
        try:
            items = await anyio.to_thread.run_sync(
                store_records, ingest, hook_tenant.id, hook, records
            )
        except Exception:
            # The sender sees an error and will retry this very delivery: it is not a replay.
            if verified.fingerprint:
                await anyio.to_thread.run_sync(
                    forget_delivery, store.db, hook.id, verified.fingerprint
                )
            raise
        ids = [item["id"] for item in items if "id" in item]
        duplicates = sum(1 for item in items if item.get("duplicate"))
        await anyio.to_thread.run_sync(
            store.record_run,
            hook.id,
            "ok" if len(ids) == len(items) else "partial",
            f"{len(items)} record(s) received via {verified.method}: {len(ids)} stored "
            f"({duplicates} duplicate)",
        )
        return {"items": items, "document_ids": ids}
