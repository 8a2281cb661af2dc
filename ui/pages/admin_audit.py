"""Admin section: the audit log, kept current while it is open (no manual refresh).

New entries are fetched every few seconds; the table is redrawn only when the newest
entry changed. Details read as "key: value" text, not JSON.
"""

from typing import Any

from nicegui import ui

from ui.backend import UiBackend
from ui.components.context import PageContext
from ui.components.feedback import Failed, call, show_error
from ui.components.formatting import short_time
from ui.pages.admin_people import data_table

LIVE_INTERVAL_S = 3.0
_DETAIL_MAX = 300


def _value(value: Any) -> str:
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_value(v) for v in value) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_value(v)}" for k, v in value.items())
    return str(value)


ACTIONS = {
    "login": "signed in",
    "logout": "signed out everywhere",
    "member.set": "role set",
    "member.remove": "member removed",
    "user.create": "account created",
    "user.delete": "account deleted",
    "user.disable": "account disabled",
    "user.enable": "account enabled",
    "user.password_change": "password changed",
    "user.password_check": "password checked",
    "user.password_reset": "password reset by an admin",
    "tenant.create": "workspace created",
    "tenant.delete": "workspace deleted",
    "api_key.create": "API key created",
    "api_key.revoke": "API key revoked",
    "connector.create": "connection added",
    "connector.update": "connection changed",
    "connector.delete": "connection deleted",
    "connector.test": "connection tested",
    "backup": "backup written",
}


def readable_action(action: str) -> str:
    """What happened, in words; unknown actions with their dots and underscores spaced."""
    return ACTIONS.get(action) or action.replace(".", " ").replace("_", " ")


def readable_detail(detail: Any) -> str:
    """An audit entry's detail as plain "key: value" text, keys in a fixed order."""
    if not detail:
        return ""
    if not isinstance(detail, dict):
        return _value(detail)[:_DETAIL_MAX]
    parts = [f"{str(k).replace('_', ' ')}: {_value(v)}" for k, v in sorted(detail.items())]
    return " · ".join(parts)[:_DETAIL_MAX]


class AuditSection:
    """Admins: the whole log or one workspace's; owners: their workspaces' logs."""

    def __init__(self, ctx: PageContext, backend: UiBackend) -> None:
        self.ctx, self.backend = ctx, backend
        choices: dict[str, str] = {}
        if ctx.user.is_admin:
            choices[""] = "All workspaces and sign-ins"
            choices.update({t["id"]: t["slug"] for t in backend.all_tenants(ctx.token)})
        else:
            choices.update({t.id: t.slug for t in ctx.tenants if t.can_manage})
        with ui.row().classes("w-full items-center gap-2"):
            self.scope = ui.select(
                choices, value=next(iter(choices)), label="Log of", on_change=self.reload
            ).classes("min-w-[14rem]")
            ui.icon("sensors").classes("text-positive")
            ui.label("Updates by itself").classes("text-caption opacity-70").props(
                "data-testid=audit-live"
            )
        self.table = data_table(
            [],
            [
                ("at", "When"),
                ("actor", "Who"),
                ("action", "What"),
                ("target", "On"),
                ("client", "From"),
                ("outcome", "Outcome"),
                ("detail", "Detail"),
            ],
            "audit-table",
            row_key="id",
        )
        self.table.props("wrap-cells")
        self.newest: Any = None
        self._fill(self._load())
        self.busy = False
        self.timer = ui.timer(LIVE_INTERVAL_S, self.reload)

    def _load(self) -> list[dict[str, Any]]:
        try:
            return self.backend.audit(self.ctx.token, self.scope.value or None)
        except Exception as exc:  # noqa: BLE001 - shown; the section stays usable
            show_error(exc, "Loading the audit log")
            return []

    def _fill(self, entries: list[dict[str, Any]]) -> None:
        newest = (self.scope.value, entries[0]["id"] if entries else None)
        if newest == self.newest:
            return
        self.newest = newest
        self.table.rows = [
            {
                **e,
                "at": short_time(e.get("at")),
                "action": readable_action(str(e.get("action", ""))),
                "target": e.get("target") or "",
                "client": e.get("client") or "",
                "detail": readable_detail(e.get("detail")),
            }
            for e in entries
        ]
        self.table.update()

    async def reload(self) -> None:
        if self.busy or self.table.is_deleted:
            return
        self.busy = True
        try:
            entries = await call(
                "Loading the audit log",
                self.backend.audit,
                self.ctx.token,
                self.scope.value or None,
            )
        finally:
            self.busy = False
        if isinstance(entries, Failed):
            self.timer.deactivate()  # told once; choosing the log again starts it anew
            return
        self.timer.activate()
        self._fill(entries)
