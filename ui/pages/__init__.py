"""The NiceGUI pages, one small module each; `register_pages` defines them all once."""

from ui.backend import UiBackend
from ui.components.layout import SESSION_END
from ui.pages.signin import SESSION_START

__all__ = ["SESSION_END", "SESSION_START", "UiBackend", "register_pages"]


def register_pages(backend: UiBackend) -> None:
    """Define every page; called once by the composition root (app/server.py)."""
    # imported here: app/server.py imports this package for its constants alone
    from ui.pages import (
        account,
        admin,
        ask,
        connectors,
        dashboard,
        document_detail,
        documents,
        guide,
        logs,
        monitoring,
        not_found,
        outbound,
        outbox,
        reports,
        runs,
        settings,
        signin,
        workflows,
    )

    pages = (
        signin,
        dashboard,
        documents,
        document_detail,
        ask,
        connectors,
        workflows,
        runs,
        reports,
        outbound,
        outbox,
        monitoring,
        logs,
    )
    for page in (*pages, admin, settings, guide, account, not_found):
        page.register(backend)
