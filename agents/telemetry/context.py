"""The log context of the work in hand: request, tenant, user, run, step and agent.

Context variables, so every log line written while handling one request or running one
task carries its ids (the JSON formatter reads them), across `await` and into worker
threads started with anyio/asyncio (they copy the context). The workflow engine sets
`run_id`/`step_id`/`agent` around each step with `bound(...)`.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
tenant_id: ContextVar[str | None] = ContextVar("tenant_id", default=None)
user: ContextVar[str | None] = ContextVar("user", default=None)
run_id: ContextVar[str | None] = ContextVar("run_id", default=None)
step_id: ContextVar[str | None] = ContextVar("step_id", default=None)
agent: ContextVar[str | None] = ContextVar("agent", default=None)

FIELDS: dict[str, ContextVar[str | None]] = {
    "request_id": request_id,
    "tenant_id": tenant_id,
    "user": user,
    "run_id": run_id,
    "step_id": step_id,
    "agent": agent,
}


def current() -> dict[str, str]:
    """The fields set in this context (unset ones left out)."""
    out = {}
    for name, var in FIELDS.items():
        value = var.get()
        if value is not None:
            out[name] = value
    return out


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Set some fields for the duration of a block, e.g. bound(run_id=r, step_id=s, agent=a)."""
    tokens = []
    for name, value in fields.items():
        var = FIELDS[name]  # KeyError names a field that does not exist
        tokens.append((var, var.set(None if value is None else str(value))))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)
