"""Every renderer (HTTP API, CLI line, UI notice, UI download) shows the public message of
an error and never its private detail."""

from collections.abc import Callable

from litestar import get

from app.cli import error_line
from app.errors import AppError
from app.server import download_failed
from tests.app.conftest import ApiWorld
from ui.components.feedback import reason

CANARY = "canary-private-detail-93c1"


class _Busy(AppError):
    status_code = 409
    code = "busy"


def _busy() -> _Busy:
    return _Busy("the document is busy; try again", detail=f"lock held by {CANARY}")


@get("/canary", sync_to_thread=False, opt={"min_role": "viewer"})
def raise_canary() -> None:
    raise _busy()


def test_the_http_handler_renders_the_public_message_only(
    world_factory: Callable[..., ApiWorld],
) -> None:
    # GIVEN a tenant route that fails with a private detail
    world = world_factory([raise_canary])
    world.user("ana")
    world.tenant("acme", ana="viewer")
    token = world.login("ana")["access_token"]
    # WHEN it is called
    response = world.client.get(
        "/api/v1/tenants/acme/canary", headers={"Authorization": f"Bearer {token}"}
    )
    # THEN the body has status, code and public message, and no trace of the detail
    assert response.status_code == 409
    assert response.json() == {
        "status_code": 409,
        "detail": "the document is busy; try again",
        "code": "busy",
    }
    assert CANARY not in response.text


def test_the_cli_line_shows_the_public_message_only() -> None:
    line = error_line(_busy())
    assert line == "appliance: error: the document is busy; try again"
    assert CANARY not in error_line(RuntimeError(CANARY))


def test_a_ui_notice_shows_the_public_message_only() -> None:
    assert reason(_busy()) == "the document is busy; try again"
    assert reason(RuntimeError(CANARY)) is None  # shown as a generic failure, logged


def test_a_failed_ui_download_shows_the_public_message_only() -> None:
    response = download_failed(_busy())
    assert response.status_code == 409
    assert bytes(response.body) == b"the document is busy; try again"
    crashed = download_failed(RuntimeError(CANARY))
    assert crashed.status_code == 500 and CANARY.encode() not in bytes(crashed.body)
