"""Outbox: the tenant's outgoing mails, webhooks, HTTP and CRM calls and how they fared.

Pending (with the next attempt), delivered, dead (the last error in plain words) and
disabled (an endpoint that answered 410 Gone, or a connector switched off). Editors and
owners can send a dead, disabled or delivered message again.
"""

from nicegui import ui
from starlette.requests import Request
from starlette.responses import RedirectResponse

from ui.backend import OutboxRow, TenantChoice, UiBackend
from ui.components.context import PageContext, open_page
from ui.components.feedback import Failed, call, show_error
from ui.components.layout import NavItem, add_nav_item, frame
from ui.components.widgets import empty_state, no_workspace

STATES = {
    "": "all",
    "pending": "pending",
    "delivered": "delivered",
    "dead": "dead",
    "disabled": "disabled",
}
COLORS = {
    "pending": "orange",
    "delivering": "blue",
    "delivered": "positive",
    "dead": "negative",
    "disabled": "grey",
}


def register(backend: UiBackend) -> None:
    """Define /outbox and its drawer entry."""
    add_nav_item(NavItem("Outbox", "outbox", "/outbox", lambda ctx: ctx.tenant is not None))

    @ui.page("/outbox", title="Outbox · Agent Appliance")
    def outbox_page(request: Request, tenant: str = "") -> RedirectResponse | None:
        ctx = open_page(backend, request, tenant or None)
        if isinstance(ctx, RedirectResponse):
            return ctx
        with frame(ctx, "Outbox", "/outbox"):
            if ctx.tenant is None:
                no_workspace()
            else:
                OutboxView(ctx, backend, ctx.tenant)
        return None


class OutboxView:
    def __init__(self, ctx: PageContext, backend: UiBackend, tenant: TenantChoice) -> None:
        self.ctx, self.backend, self.tenant = ctx, backend, tenant
        self.state = ""
        with ui.row().classes("w-full items-center justify-between gap-2"):
            ui.label("Outbox").classes("text-h5")
            # the five states wrap on a narrow window instead of pushing the page sideways
            ui.toggle(STATES, value="", on_change=self._filter).props(
                "dense no-caps data-testid=outbox-state"
            ).classes("flex-wrap max-w-full")
        ui.label(
            "Every mail, webhook and call a workflow makes waits here until the receiver "
            "took it; failures are retried for about 38 hours."
        ).classes("opacity-70")
        self.counts = ui.label().props("data-testid=outbox-counts")
        self.list = ui.column().classes("w-full gap-2")
        try:
            self._show(*backend.outbox(ctx.token, tenant.id, None))
        except Exception as exc:  # noqa: BLE001 - shown; the page still renders
            show_error(exc, "Loading the outbox")

    async def _filter(self, event: object) -> None:
        self.state = str(getattr(event, "value", "") or "")
        await self.reload()

    async def reload(self) -> None:
        found = await call(
            "Loading the outbox",
            self.backend.outbox,
            self.ctx.token,
            self.tenant.id,
            self.state or None,
        )
        if not isinstance(found, Failed):
            self._show(*found)

    def _show(self, rows: list[OutboxRow], counts: dict[str, int]) -> None:
        self.counts.set_text(" · ".join(f"{counts.get(s, 0)} {s}" for s in STATES if s))
        self.list.clear()
        with self.list:
            if not rows:
                empty_state("outbox", "Nothing here", "No messages in this state.")
            for row in rows:
                self._card(row)

    def _card(self, row: OutboxRow) -> None:
        with ui.card().classes("w-full").props(f"data-testid=outbox-{row.state}"):
            with ui.row().classes("w-full items-center justify-between no-wrap"):
                with ui.row().classes("items-center gap-2"):
                    ui.badge(row.state, color=COLORS.get(row.state, "grey"))
                    ui.label(row.summary).classes("font-medium")
                if row.state in ("dead", "disabled", "delivered") and self.tenant.role != "viewer":
                    ui.button(
                        "Send again", icon="replay", on_click=lambda r=row: self._redeliver(r)
                    ).props("flat dense")
            details = [
                f"{row.kind}",
                f"{row.attempts} attempt(s)",
                f"created {row.created_at[:19]}",
            ]
            if row.delivered_at:
                details.append(f"delivered {row.delivered_at[:19]}")
            if row.next_attempt_at and row.state == "pending":
                details.append(f"next attempt {row.next_attempt_at}")
            ui.label(" · ".join(details)).classes("text-sm opacity-70")
            if row.endpoint_disabled:
                ui.label(f"Endpoint disabled: {row.endpoint_disabled}").classes(
                    "text-sm text-negative"
                ).props("data-testid=endpoint-disabled")
            if row.last_error and row.state != "delivered":
                ui.label(row.last_error).classes("text-sm").props("data-testid=last-error")

    async def _redeliver(self, row: OutboxRow) -> None:
        done = await call(
            "Sending again", self.backend.redeliver, self.ctx.token, self.tenant.id, row.id
        )
        if not isinstance(done, Failed):
            ui.notify("Queued to be sent again.", type="positive")
            await self.reload()
