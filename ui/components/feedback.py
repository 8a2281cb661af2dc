"""Calling the backend from event handlers: off the event loop, errors shown as notices.

Errors that carry a reason for people (`detail` or `message`, as the app's and agents'
errors do) are shown with that reason; anything else is logged and shown as a generic
failure, so no stack detail reaches the browser. An ended session sends the browser back
to sign-in with a notice.
"""

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from nicegui import ui

from ui.backend import SessionExpired
from ui.components.context import EXPIRED

log = logging.getLogger("appliance.ui")

T = TypeVar("T")


class Failed:
    """Returned by `call` when the call failed and the user was already told why."""


FAILED = Failed()


def reason(exc: BaseException) -> str | None:
    """The plain-words reason an error carries, if it carries one."""
    for attr in ("detail", "message"):
        text = getattr(exc, attr, None)
        if isinstance(text, str) and text:
            return text
    if hasattr(exc, "code") and str(exc):
        return str(exc)
    return None


def show_error(exc: BaseException, action: str = "") -> None:
    """Notify the user of a failure; session expiry navigates to sign-in instead."""
    if isinstance(exc, SessionExpired):
        ui.navigate.to(EXPIRED)
        return
    text = reason(exc)
    if text is None:
        log.error("UI action %r failed: %s", action or "?", type(exc).__name__, exc_info=exc)
        text = "something went wrong on the server; see the server log"
    ui.notify(f"{action} failed: {text}" if action else text, type="negative", multi_line=True)


async def call(action: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | Failed:
    """Run a blocking backend call in a worker thread; FAILED (already notified) on error.

    The notice is raised in the page's root, not where the action started: a list that
    was redrawn meanwhile may have deleted the button that started it.
    """
    root = ui.context.client.content
    try:
        return await asyncio.to_thread(fn, *args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a notice for the user
        if not root.is_deleted:
            with root:
                show_error(exc, action)
        return FAILED
