"""Who is looking at a page: the session, the user, their tenants and the current tenant.

Built from the HTTP request that opens the page (the cookie is HttpOnly, so only the
server ever reads it); the cookie value stays in server memory for the page's lifetime
and is passed to the backend on every call, which re-checks it each time.
"""

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import RedirectResponse

from ui.backend import SignedIn, TenantChoice, UiBackend
from ui.components.state import STATES, SessionState

LOGIN = "/login"
EXPIRED = "/login?notice=expired"


@dataclass
class PageContext:
    backend: UiBackend
    token: str
    user: SignedIn
    tenants: list[TenantChoice]
    state: SessionState

    @property
    def tenant(self) -> TenantChoice | None:
        """The tenant the user works in now (None: they belong to none)."""
        for tenant in self.tenants:
            if tenant.id == self.state.tenant_id:
                return tenant
        return None

    def switch(self, tenant_ref: str) -> bool:
        """Make `tenant_ref` (id or slug) current if the user belongs to it."""
        for tenant in self.tenants:
            if tenant_ref in (tenant.id, tenant.slug):
                self.state.tenant_id = tenant.id
                return True
        return False

    @property
    def can_administer(self) -> bool:
        """Admins and tenant owners get the admin page."""
        return self.user.is_admin or any(t.can_manage for t in self.tenants)


def open_page(
    backend: UiBackend, request: Request, tenant: str | None = None
) -> PageContext | RedirectResponse:
    """The page's context, or a redirect to sign-in (with a notice if a session ran out)."""
    token = request.cookies.get(backend.cookie_name)
    user = backend.user_for_session(token, backend.client_address(request.scope))
    if token is None or user is None:
        return RedirectResponse(EXPIRED if token else LOGIN, status_code=303)
    ctx = PageContext(backend, token, user, backend.tenants(token), STATES.get(token))
    if tenant:
        ctx.switch(tenant)
    if ctx.tenant is None:
        ctx.state.tenant_id = ctx.tenants[0].id if ctx.tenants else None
    return ctx
