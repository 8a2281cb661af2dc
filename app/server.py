"""ASGI assembly and `serve`: Litestar at /api/v1, NiceGUI at /, Huey workers, one uvicorn."""

import asyncio
import gc
import logging
import secrets
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from nicegui import ui as nicegui_ui
from starlette.requests import Request

from app.api.application import API_PREFIX, build_api
from app.api.headers import UI_HEADERS, with_headers
from app.api.hosts import AllowedHosts
from app.api.http_limits import LimitedHttpToolsProtocol
from app.api.limits import MAX_HEADERS, MAX_URL_BYTES
from app.auth.client_address import client_address
from app.auth.kit import AuthKit
from app.auth.sessions import COOKIE_NAME
from app.every import Every
from app.observability.wiring import observed_api
from app.queue_process import QueueProcess
from app.runtime import Runtime, build_runtime
from app.services import Services
from app.tls import key_password
from app.ui_backend import ApplianceUiBackend
from app.ui_backend.upload_limit import UploadLimit
from storage.errors import ApplianceError, describe
from ui import forget_session, register_pages
from ui.backend import SessionExpired
from ui.pages import SESSION_END, SESSION_START
from ui.pages.document_detail import ORIGINAL_URL

log = logging.getLogger("appliance.server")


_BAD_HOST = (
    b'{"status_code":400,"detail":"this host name is not in server.allowed_hosts",'
    b'"code":"invalid_host"}'
)
_URL_TOO_LONG = (
    f'{{"status_code":414,"detail":"the URL is longer than {MAX_URL_BYTES} bytes",'
    f'"code":"uri_too_long"}}'
).encode()
_TOO_MANY_HEADERS = (
    f'{{"status_code":431,"detail":"more than {MAX_HEADERS} header fields",'
    f'"code":"headers_too_large"}}'
).encode()


class ApplianceASGI:
    """Routes /api/ and /metrics to Litestar and everything else (and lifespan) to NiceGUI.

    The UI side gets the same Host check as the API (Litestar does its own) and the
    security headers, with the CSP NiceGUI needs.
    """

    def __init__(self, api: Any, ui_host: FastAPI, allowed_hosts: AllowedHosts) -> None:
        self.api = api
        # NiceGUI finds its uvicorn server by following `.app` attributes to its host app
        self.app = ui_host
        self.allowed_hosts = allowed_hosts

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            refusal = _over_limits(scope)
            if refusal is not None:
                await _refuse(scope, send, *refusal)
                return
            path: str = scope["path"]
            if path.startswith(API_PREFIX + "/") or path == API_PREFIX or path == "/metrics":
                await self.api(scope, receive, send)
                return
            if not self.allowed_hosts.allows_scope(scope):
                await _refuse(scope, send, 400, _BAD_HOST)
                return
            if scope["type"] == "http":
                send = with_headers(send, UI_HEADERS)
        await self.app(scope, receive, send)


def _over_limits(scope: Any) -> tuple[int, bytes] | None:
    """The URL length and header count limits (the head's size in bytes is bounded by
    the protocol, app/api/http_limits.py, before anything is parsed)."""
    if len(scope["headers"]) > MAX_HEADERS:
        return 431, _TOO_MANY_HEADERS
    if len(scope.get("raw_path") or b"") + len(scope["query_string"]) > MAX_URL_BYTES:
        return 414, _URL_TOO_LONG
    return None


async def _refuse(scope: Any, send: Any, status: int, body: bytes) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), *_header_pairs(UI_HEADERS)],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _header_pairs(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.encode(), v.encode()) for k, v in headers.items()]


def _add_session_routes(
    host: FastAPI, kit: AuthKit, services: Services, backend: ApplianceUiBackend
) -> None:
    """Plain HTTP routes beside the UI: what a websocket cannot do (set and clear the
    session cookie) and file downloads, each checked against the cookie session; and
    the size limit for browser uploads."""
    secure = services.settings.server.tls
    sessions = kit.sessions
    trusted = services.settings.server.trusted_proxies
    host.add_middleware(UploadLimit, limit=backend.max_upload_bytes())

    @host.get(SESSION_START, include_in_schema=False)
    def start_session(request: Request, ticket: str = "") -> RedirectResponse:
        user_id = sessions.redeem_ticket(ticket)
        if user_id is None:
            return RedirectResponse("/login?notice=expired", status_code=303)
        # a new session id at every sign-in (no fixation)
        token, _ = sessions.create(user_id, client_address(request.scope, trusted))
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            COOKIE_NAME,
            token,
            httponly=True,
            samesite="strict",
            secure=secure,
            max_age=services.settings.security.session_absolute_hours * 3600,
            path="/",
        )
        return response

    @host.get(SESSION_END, include_in_schema=False)
    def end_session(request: Request, everywhere: bool = False) -> RedirectResponse:
        """Sign out; `?everywhere=true` also ends every other session and API token."""
        token = request.cookies.get(COOKIE_NAME)
        session = sessions.validate(token) if token else None
        if everywhere and session is not None:
            user = services.system.get_user(session.user_id)
            if user is not None:
                kit.logins.sign_out_everywhere(user, client_address(request.scope, trusted))
        if token:
            sessions.revoke(token)
            # the conversation and tenant choice of this session go with it
            forget_session(token)
            backend.forget_session(token)
        response = RedirectResponse("/login?notice=signed-out", status_code=303)
        response.delete_cookie(COOKIE_NAME, path="/")
        return response

    @host.get(ORIGINAL_URL, include_in_schema=False, response_model=None)
    def download_original(
        request: Request, tenant_id: str, document_id: str
    ) -> Response | RedirectResponse:
        """The decrypted original, only for a member of the tenant with a live session;
        anything else gets the same 404 whether the document exists or not."""
        try:
            name, content = backend.original(
                request.cookies.get(COOKIE_NAME), tenant_id, document_id
            )
        except SessionExpired:
            return RedirectResponse("/login?notice=expired", status_code=303)
        except Exception as exc:  # noqa: BLE001 - mapped to the status the error carries
            return download_failed(exc)
        return Response(
            content,
            media_type="application/octet-stream",
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
            },
        )


def download_failed(exc: BaseException) -> Response | RedirectResponse:
    """The answer of a UI download that failed: sign-in again, the same 404 whether the
    document exists or not, or the error's public message (never its private detail)."""
    if isinstance(exc, SessionExpired):
        return RedirectResponse("/login?notice=expired", status_code=303)
    described = describe(exc)
    if described.status_code >= 500:
        log.error("original download failed: %s", type(exc).__name__)
    if described.status_code in (403, 404):
        return PlainTextResponse("no such document", status_code=404)
    return PlainTextResponse(described.message, status_code=max(400, described.status_code))


def _freeze_startup_heap() -> None:
    """Exclude what start-up built (NiceGUI, Litestar, the settings, imported modules)
    from garbage collection: those objects live as long as the process, and every full
    collection walked all of them again; `bench api` measured about 5 % of throughput."""
    gc.collect()
    gc.freeze()


def warm_answerer(runtime: Runtime) -> None:
    """Load the LLM and put the answer instructions in its prompt cache (best effort)."""
    answerer = runtime.answerer
    if answerer is None:
        return
    try:
        answerer.warm()
    except Exception:  # the first question loads it instead
        log.warning("warming the language model failed", exc_info=True)


async def _startup_step(name: str, work: Callable[..., object], *args: object) -> None:
    """Run one start-up recovery step in a thread; a failure (a full disk) is logged in
    one line and the server starts anyway, degraded: the fault reconciler retries."""
    try:
        await asyncio.to_thread(work, *args)
    except Exception as exc:  # noqa: BLE001 - degraded mode instead of a crash loop
        described = describe(exc)
        log.warning("start-up %s did not finish (%s); retried while running", name, described.code)


def build_asgi(services: Services, *, workers: bool = True) -> ApplianceASGI:
    """Build the runtime and wire it into one ASGI app whose lifespan runs the queue
    (unless `workers` is False: `serve --no-workers`, `appliance worker` runs it)."""
    return assemble(build_runtime(services, dropboxes=True), workers=workers)


def assemble(runtime: Runtime, *, workers: bool = True) -> ApplianceASGI:
    """One ASGI app over `runtime`: API, UI, and a lifespan that runs the queue's
    consumers in this process when `workers` is True."""
    services = runtime.services
    settings = services.settings
    dropboxes = runtime.dropboxes
    kit = runtime.auth
    api = build_api(runtime)
    observability = runtime.observability

    consumers = QueueProcess(runtime) if workers else None
    runtime.queue.consumes_here = workers
    dropbox_sync = Every("dropbox-sync", 60.0, dropboxes.sync) if dropboxes is not None else None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if observability.activity is not None:
            observability.activity.start()
        if consumers is not None:
            # recovery of what killed processes left, then the workers (app/queue_process)
            await asyncio.to_thread(consumers.start)
        if dropboxes is not None and dropbox_sync is not None:
            await _startup_step("drop boxes", dropboxes.start)
            # follow the tenant list: inboxes of new tenants added, deleted ones dropped
            dropbox_sync.start()
        try:
            async with api.lifespan():
                _freeze_startup_heap()
                log.info("appliance ready")
                if settings.models.llm_warm_on_start:
                    asyncio.get_running_loop().run_in_executor(None, warm_answerer, runtime)
                yield
        finally:
            if dropboxes is not None and dropbox_sync is not None:
                dropbox_sync.stop()
                await asyncio.to_thread(dropboxes.stop)
            if consumers is not None:
                await asyncio.to_thread(consumers.stop)
            if observability.activity is not None:
                observability.activity.stop()
            services.close()
            log.info("appliance stopped; databases closed")

    host = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)
    ui_backend = ApplianceUiBackend(runtime)
    _add_session_routes(host, kit, services, ui_backend)
    register_pages(ui_backend)
    nicegui_ui.run_with(
        host,
        title="Agent Appliance",
        storage_secret=secrets.token_urlsafe(32),
        show_welcome_message=False,
        favicon="📄",
    )
    return ApplianceASGI(
        observed_api(api, settings, observability),
        host,
        AllowedHosts(settings.server.allowed_hosts),
    )


def serve(services: Services, *, workers: bool = True) -> None:
    """Run until SIGTERM/SIGINT; uvicorn drains requests, then the lifespan closes all."""
    settings = services.settings
    ssl: dict[str, Any] = {}
    if settings.server.tls:
        tls_dir = services.data.tls_dir
        ssl = {
            "ssl_certfile": str(tls_dir / "cert.pem"),
            "ssl_keyfile": str(tls_dir / "key.pem"),
            "ssl_keyfile_password": key_password(services.master),
        }
    config = uvicorn.Config(
        build_asgi(services, workers=workers),
        host=settings.server.host,
        port=settings.server.port,
        lifespan="on",
        http=LimitedHttpToolsProtocol,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=int(settings.server.shutdown_timeout_s),
        **ssl,
    )
    server = uvicorn.Server(config)
    previous = {
        sig: signal.signal(sig, _stopped_by_signal) for sig in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        server.run()
    except _StoppedBySignal:
        # uvicorn re-raises the signal it shut down for; a requested stop is a success
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if not server.started:
        raise ServeError(f"could not serve on {settings.server.host}:{settings.server.port}")


class _StoppedBySignal(Exception):
    pass


def _stopped_by_signal(signum: int, frame: object) -> None:
    raise _StoppedBySignal(signum)


class ServeError(ApplianceError):
    status_code = 500
    code = "serve_failed"
