"""Tenant connectors: GET|POST /connectors, GET|PUT|DELETE /connectors/{id},
POST /connectors/{id}/test and /connectors/{id}/poll.

Reading needs the viewer role; everything that changes a connector, talks to its server
or runs it needs the owner role. Secrets (mail password, hook secret/token) are
write-only: responses show `{"set": true|false}` in their place, and audit entries name
which secrets changed, never their values.

`POST .../poll` runs the poll now, in a worker thread, and answers 200 with the report
(`{"report": {...counts, "summary"}, "connector": {...}}`); mail server failures answer
502 with the reason, a poll already running 409. With `?background=true` it is queued
instead (202 `{"queued": true}`), as the scheduler does.
"""

import functools
from typing import Annotated, Any

import anyio
import msgspec
from litestar import Controller, Response, delete, get, post, put
from litestar.di import Provide
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_201_CREATED,
    HTTP_202_ACCEPTED,
    HTTP_204_NO_CONTENT,
)

from agents.act.connection_test import test_outbound
from agents.act.connector_kinds import OUTBOUND_KINDS
from agents.ingest.sources.connectors import KINDS, ConnectorRecord, ConnectorStore, public
from agents.ingest.sources.mail import test_connection
from agents.ingest.sources.mail_ingest import poll_connector, report_dict
from app.api.deps import (
    ClientDep,
    ConnectorStoreDep,
    DispatcherDep,
    EnqueueDep,
    IngestDep,
    ServicesDep,
    TenantAccessDep,
    TenantDbDep,
)
from app.api.limits import NAME, Bounded
from app.auth.tenant_access import TenantAccess
from app.errors import AppError
from app.operations.connectors import audit_connector

_OWNER = {"min_role": "owner"}
HOOK_PATH = "/api/v1/tenants/{tenant}/hooks/{hook_id}"


class NotAMailbox(AppError):
    status_code = 409
    code = "not_a_mailbox"


class NewConnector(msgspec.Struct, forbid_unknown_fields=True):
    """POST body. `config`: non-secret settings; `secrets`: {"password"} for imap/pop3,
    {"secret", "token"} (either or both, >= 16 characters) for hooks."""

    # checked by the store (422 invalid_connector, as other settings); declared here
    kind: Annotated[
        str,
        msgspec.Meta(
            max_length=16, extra_json_schema={"extra": {"enum": [*KINDS, *OUTBOUND_KINDS]}}
        ),
    ]
    name: Annotated[str, NAME.schema()]
    config: dict[str, Any] = msgspec.field(default_factory=dict)
    secrets: dict[str, Bounded | None] = msgspec.field(default_factory=dict)
    enabled: bool = True


class ConnectorChange(msgspec.Struct, forbid_unknown_fields=True):
    """PUT body; every field optional. `config` replaces the settings as a whole; a
    secret left out or "" keeps the stored one, null removes it."""

    name: Annotated[str, NAME.schema()] | None = None
    config: dict[str, Any] | None = None
    secrets: dict[str, Bounded | None] | None = None
    enabled: bool | None = None


def provide_connectors(
    tenant_access: TenantAccessDep, tenant_db: TenantDbDep, services: ServicesDep
) -> ConnectorStore:
    return ConnectorStore(
        tenant_db, services.tenants.data_key(tenant_access.tenant_id), OUTBOUND_KINDS
    )


def shown(record: ConnectorRecord, access: TenantAccess) -> dict[str, Any]:
    """The public form, plus the URL outside systems call for a hook."""
    body = public(record)
    if record.kind == "hook":
        body["hook_path"] = HOOK_PATH.format(tenant=access.tenant.slug, hook_id=record.id)
    return body


class ConnectorsController(Controller):
    path = "/connectors"
    tags = ["connectors"]
    dependencies = {"connectors": Provide(provide_connectors, sync_to_thread=False)}

    @get("/", sync_to_thread=True)
    def list_connectors(
        self,
        connectors: ConnectorStoreDep,
        tenant_access: TenantAccessDep,
        kind: FromQuery[str | None] = None,
    ) -> dict[str, Any]:
        """Every connector of the tenant (optionally of one kind), secrets as markers."""
        return {"items": [shown(r, tenant_access) for r in connectors.list(kind)]}

    @post("/", status_code=HTTP_201_CREATED, sync_to_thread=True, opt=_OWNER)
    def create_connector(
        self,
        data: JSONBody[NewConnector],
        connectors: ConnectorStoreDep,
        tenant_access: TenantAccessDep,
        services: ServicesDep,
        client: ClientDep,
    ) -> dict[str, Any]:
        """A new mailbox or hook; 422 with the reason when its settings are not valid."""
        NAME.check("name", data.name)
        record = connectors.create(
            data.kind, data.name, data.config, data.secrets, enabled=data.enabled
        )
        audit_connector(
            services.system,
            "connector.create",
            tenant_access,
            record,
            client,
            secrets_set=sorted(record.secrets_set),
        )
        return shown(record, tenant_access)

    @get("/{connector_id:str}", sync_to_thread=True)
    def show_connector(
        self,
        connector_id: FromPath[str],
        connectors: ConnectorStoreDep,
        tenant_access: TenantAccessDep,
    ) -> dict[str, Any]:
        return shown(connectors.get(connector_id), tenant_access)

    @put("/{connector_id:str}", sync_to_thread=True, opt=_OWNER)
    def update_connector(
        self,
        connector_id: FromPath[str],
        data: JSONBody[ConnectorChange],
        connectors: ConnectorStoreDep,
        tenant_access: TenantAccessDep,
        services: ServicesDep,
        client: ClientDep,
    ) -> dict[str, Any]:
        """Change name, settings, secrets or enabled; omitted parts stay as they are."""
        NAME.check("name", data.name)
        record = connectors.update(
            connector_id,
            name=data.name,
            config=data.config,
            secrets=data.secrets,
            enabled=data.enabled,
        )
        changed = [f for f in ("name", "config", "enabled") if getattr(data, f) is not None]
        audit_connector(
            services.system,
            "connector.update",
            tenant_access,
            record,
            client,
            changed=changed,
            secrets_changed=sorted((data.secrets or {}).keys()),
        )
        return shown(record, tenant_access)

    @delete("/{connector_id:str}", status_code=HTTP_204_NO_CONTENT, sync_to_thread=True, opt=_OWNER)
    def delete_connector(
        self,
        connector_id: FromPath[str],
        connectors: ConnectorStoreDep,
        tenant_access: TenantAccessDep,
        services: ServicesDep,
        client: ClientDep,
    ) -> None:
        """Remove the connector and its mail progress; documents it brought in stay."""
        record = connectors.delete(connector_id)
        audit_connector(services.system, "connector.delete", tenant_access, record, client)

    @post("/{connector_id:str}/test", status_code=HTTP_200_OK, sync_to_thread=True, opt=_OWNER)
    def test_connector(
        self,
        connector_id: FromPath[str],
        connectors: ConnectorStoreDep,
        tenant_access: TenantAccessDep,
        services: ServicesDep,
        client: ClientDep,
        dispatcher: DispatcherDep,
    ) -> dict[str, Any]:
        """Log in to the mailbox and look, changing nothing: {ok, message, code}. Outbound
        connectors: reach the server (SMTP login; TCP/TLS for HTTP), sending nothing."""
        record = connectors.get(connector_id)
        if record.kind in OUTBOUND_KINDS:
            outcome = test_outbound(
                dispatcher.policy,
                record.kind,
                record.config,
                connectors.secrets(connector_id),
            )
            audit_connector(
                services.system,
                "connector.test",
                tenant_access,
                record,
                client,
                ok=outcome.ok,
                code=outcome.code,
            )
            return {"ok": outcome.ok, "message": outcome.message, "code": outcome.code}
        if not record.is_mail:
            return {
                "ok": True,
                "code": None,
                "message": "Hooks are not dialled out; send a signed test delivery to "
                + HOOK_PATH.format(tenant=tenant_access.tenant.slug, hook_id=record.id),
            }
        _, config = connectors.mailbox(connector_id)
        result = test_connection(config)
        audit_connector(
            services.system,
            "connector.test",
            tenant_access,
            record,
            client,
            ok=result.ok,
            code=result.code,
        )
        return {"ok": result.ok, "message": result.message, "code": result.code}

    @post("/{connector_id:str}/poll", status_code=HTTP_200_OK, opt=_OWNER)
    async def poll_now(
        self,
        connector_id: FromPath[str],
        connectors: ConnectorStoreDep,
        tenant_access: TenantAccessDep,
        services: ServicesDep,
        ingest: IngestDep,
        enqueue: EnqueueDep,
        client: ClientDep,
        background: FromQuery[bool] = False,
    ) -> Response[dict[str, Any]]:
        """Poll the mailbox now (200 with the report), or queue it (?background=true)."""
        record = await anyio.to_thread.run_sync(connectors.get, connector_id)
        if not record.is_mail:
            raise NotAMailbox(
                f"connector {record.name!r} is not a mailbox; only mailboxes are polled"
            )
        await anyio.to_thread.run_sync(
            functools.partial(
                audit_connector,
                services.system,
                "connector.poll",
                tenant_access,
                record,
                client,
                background=background,
            )
        )
        if background:
            enqueue.mail_poll(tenant_access.tenant_id, record.id)
            return Response({"queued": True}, status_code=HTTP_202_ACCEPTED)
        run = functools.partial(poll_connector, ingest, tenant_access.tenant_id, record.id)
        report = await anyio.to_thread.run_sync(run)
        assert report is not None  # only scheduled polls skip disabled connectors
        after = await anyio.to_thread.run_sync(connectors.get, connector_id)
        return Response({"report": report_dict(report), "connector": shown(after, tenant_access)})
