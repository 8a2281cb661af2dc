"""ASGI assembly and `serve`: Litestar at /api/v1, NiceGUI at /, Huey workers, one uvicorn."""

import asyncio
import logging
import secrets
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from litestar import Litestar
from nicegui import ui as nicegui_ui
from starlette.requests import Request

from app.api.application import API_PREFIX, build_api
from app.auth.accounts import Accounts
from app.auth.passwords import Passwords
from app.auth.sessions import COOKIE_NAME, Sessions
from app.queue import QueueRunner, build_huey
from app.services import Services
from app.tasks import register_tasks
from app.tls import key_password
from app.ui_backend import ApplianceUiBackend
from ui import register_pages
from ui.pages import SESSION_END, SESSION_START

log = logging.getLogger("appliance.server")


class ApplianceASGI:
    """Routes /api/ and /metrics to Litestar and everything else (and lifespan) to NiceGUI."""

    def __init__(self, api: Litestar, ui_host: FastAPI) -> None:
        self.api = api
        # NiceGUI finds its uvicorn server by following `.app` attributes to its host app
        self.app = ui_host

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            path: str = scope["path"]
            if path.startswith(API_PREFIX + "/") or path == API_PREFIX or path == "/metrics":
                await self.api(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _add_session_routes(host: FastAPI, sessions: Sessions, services: Services) -> None:
    secure = services.settings.server.tls

    @host.get(SESSION_START, include_in_schema=False)
    def start_session(request: Request, ticket: str = "") -> RedirectResponse:
        user_id = sessions.redeem_ticket(ticket)
        if user_id is None:
            return RedirectResponse("/login?notice=expired", status_code=303)
        client = request.client.host if request.client else None
        token, _ = sessions.create(user_id, client)
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
    def end_session(request: Request) -> RedirectResponse:
        token = request.cookies.get(COOKIE_NAME)
        if token:
            sessions.revoke(token)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE_NAME, path="/")
        return response


def build_asgi(services: Services) -> ApplianceASGI:
    """Wire every service into one ASGI app whose lifespan runs the queue."""
    settings = services.settings
    queue = QueueRunner(build_huey(services.data, services.master), settings)
    register_tasks(queue, services)
    passwords = Passwords(settings.security)
    accounts = Accounts(services.system, passwords)
    sessions = Sessions(services.system_db, settings.security)
    services.extras.update(queue=queue, passwords=passwords, accounts=accounts, sessions=sessions)
    api = build_api(services, queue)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        queue.start()
        try:
            async with api.lifespan():
                log.info("appliance ready")
                yield
        finally:
            await asyncio.to_thread(queue.stop)
            services.close()
            log.info("appliance stopped; databases closed")

    host = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)
    _add_session_routes(host, sessions, services)
    register_pages(ApplianceUiBackend(accounts, sessions, services.system))
    nicegui_ui.run_with(
        host,
        title="Agent Appliance",
        storage_secret=secrets.token_urlsafe(32),
        show_welcome_message=False,
        favicon="📄",
    )
    return ApplianceASGI(api, host)


def serve(services: Services) -> None:
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
        build_asgi(services),
        host=settings.server.host,
        port=settings.server.port,
        lifespan="on",
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


class ServeError(Exception):
    status_code = 500
    code = "serve_failed"
