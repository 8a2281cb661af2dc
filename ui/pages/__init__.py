"""The NiceGUI pages, one small module each; `register_pages` defines them all once."""

from ui.backend import UiBackend
from ui.components.layout import SESSION_END
from ui.pages import admin, ask, connectors, dashboard, documents, signin
from ui.pages.signin import SESSION_START

__all__ = ["SESSION_END", "SESSION_START", "UiBackend", "register_pages"]


def register_pages(backend: UiBackend) -> None:
    """Define every page; called once by the composition root (app/server.py)."""
    signin.register(backend)
    dashboard.register(backend)
    documents.register(backend)
    ask.register(backend)
    connectors.register(backend)
    admin.register(backend)
