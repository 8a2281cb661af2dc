"""Calling the backend from event handlers: off the event loop, errors shown as notices.

Appliance errors are shown with their public message (`storage.errors.describe`); their
private detail and anything else is logged and shown as a generic failure, so no stack or
private detail reaches the browser. An ended session sends the browser back
to sign-in with a notice.
"""

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from nicegui import ui

from storage.errors import describe
from ui.backend import SessionExpired
from ui.components.context import EXPIRED

log = logging.getLogger("appliance.ui")

T = TypeVar("T")


class Failed:
    """Returned by `call` when the call failed and the user was already told why."""


FAILED = Failed()


def reason(exc: BaseException) -> str | None:
    """The public reason of an appliance error (never its private detail); None for any
    other exception, whose text may hold anything."""
    described = describe(exc)
    return None if described.internal else described.message


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
