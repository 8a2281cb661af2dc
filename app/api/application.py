"""Assembles the Litestar app: routers, app-level dependencies, error rendering."""

from litestar import Litestar, Router
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig

from app.api.health import HealthController
from app.errors import render_exception
from app.queue import QueueRunner
from app.services import Services

API_PREFIX = "/api/v1"


def build_api(services: Services, queue: QueueRunner) -> Litestar:
    """The REST API; settings and services are app-level dependencies."""
    api_v1 = Router(path=API_PREFIX, route_handlers=[HealthController])
    return Litestar(
        route_handlers=[api_v1],
        dependencies={
            "services": Provide(lambda: services, sync_to_thread=False),
            "settings": Provide(lambda: services.settings, sync_to_thread=False),
            "queue": Provide(lambda: queue, sync_to_thread=False),
        },
        exception_handlers={Exception: render_exception},
        openapi_config=OpenAPIConfig(
            title="Agent Appliance", version="1", path=f"{API_PREFIX}/schema"
        ),
        request_max_body_size=services.settings.server.max_body_mb * 1024 * 1024,
        debug=False,
    )
