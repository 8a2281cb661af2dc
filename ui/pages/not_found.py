"""The friendly 404: an unknown address inside the app's own frame, with a way home.

NiceGUI answers unknown paths with its own "HTTPException: 404" page; this handler
replaces it for pages. The API lives outside NiceGUI (app/server.py routes /api to
Litestar), so API 404s stay JSON; non-page NiceGUI endpoints keep FastAPI's JSON too.
"""

from fastapi.exception_handlers import http_exception_handler
from nicegui import Client, app, ui
from nicegui.page import page
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ui.backend import UiBackend
from ui.components.context import open_page
from ui.components.layout import frame

HELP = "/help"


def _is_page_request(request: Request, exception: Exception) -> bool:
    endpoint = request.scope.get("endpoint")
    return (
        endpoint is None
        or endpoint is app
        or bool(request.scope.get("nicegui_page_path"))
        or not isinstance(exception, StarletteHTTPException)
    )


def _body(signed_in: bool) -> None:
    with (
        ui.column()
        .classes("w-full items-center text-center py-12 gap-2")
        .props("data-testid=not-found")
    ):
        ui.icon("explore_off").classes("text-6xl opacity-60")
        ui.label("This page does not exist").classes("text-h5")
        ui.label("The address may be mistyped, or the page was moved or deleted.").classes(
            "opacity-80 max-w-prose"
        )
        with ui.row().classes("gap-2 justify-center"):
            # real links (QBtn with href renders <a>): they work without the websocket
            ui.button("Go to the start page", icon="home").props(
                "href=/ data-testid=not-found-home"
            )
            if signed_in:
                ui.button("Help", icon="help").props(f"flat href={HELP}")


def register(backend: UiBackend) -> None:
    """Answer unknown page addresses with our 404 page."""

    async def not_found(request: Request, exception: Exception) -> Response:
        if not _is_page_request(request, exception):
            return await http_exception_handler(request, exception)  # type: ignore[arg-type]
        with Client(page(""), request=request) as client:
            ui.page_title("Not found · Agent Appliance")
            ctx = open_page(backend, request)
            if isinstance(ctx, RedirectResponse):
                with ui.card().classes("absolute-center w-11/12 max-w-md p-6"):
                    _body(False)
            else:
                with frame(ctx, "Not found"):
                    _body(True)
        return client.build_response(request, 404)

    app.add_exception_handler(404, not_found)
