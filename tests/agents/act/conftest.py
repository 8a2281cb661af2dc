"""Fixtures for the action tests: a tenant in a real data directory, a dispatcher whose
queue is a list (the tests step time themselves), local receivers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from agents.act.dispatcher import ActionLimits, DeliverTask, Dispatcher
from agents.act.egress import EgressPolicy
from agents.act.steps import action_steps
from agents.ingest.sources.connectors import ConnectorStore
from agents.supervisor.step import Step, StepContext, StepResult
from app.services import Services
from tests.agents.act.receivers import Receiver, Reply


class Clock:
    """Epoch seconds that the test advances."""

    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Actions:
    """One tenant, its dispatcher, and the deliveries it queued."""

    services: Services
    tenant_id: str
    dispatcher: Dispatcher
    clock: Clock
    queued: list[tuple[DeliverTask, float]] = field(default_factory=list)

    @property
    def db(self) -> Any:
        return self.services.tenants.database(self.tenant_id)

    @property
    def connectors(self) -> ConnectorStore:
        return self.dispatcher.connectors(self.tenant_id)

    def step(self, agent: str) -> Step:
        return next(s for s in action_steps(self.dispatcher) if s.agent == agent)

    def complete(
        self, agent: str, params: dict[str, Any], run_id: str = "run1", item: int | None = None
    ) -> StepResult:
        """Run a step and complete it as the engine does: on_commit in one transaction,
        then after_commit."""
        ctx = StepContext(self.tenant_id, run_id=run_id, step_id=agent, item_index=item)
        result = self.step(agent).run(ctx, params)
        with self.db.write() as conn:
            for write in result.on_commit:
                write(conn)
        for after in result.after_commit:
            after()
        return result

    def deliver_queued(self) -> list[int]:
        """Run the queued tasks as the queue runs them (the test moves the clock)."""
        due, self.queued[:] = list(self.queued), []
        return [self.dispatcher.deliver_and_drain(task) for task, _ in due]


@pytest.fixture
def actions_factory(services: Services) -> Iterator[Callable[..., Actions]]:
    built: list[Dispatcher] = []

    def build(allow: tuple[str, ...] = (), **limits: Any) -> Actions:
        tenant = services.tenants.create(f"act{len(built)}")
        clock = Clock()
        queued: list[tuple[DeliverTask, float]] = []
        dispatcher = Dispatcher(
            services.tenants,
            EgressPolicy(allow),
            ActionLimits(**{"timeout_s": 5.0, **limits}),
            lambda task, delay: queued.append((task, delay)),
            clock=clock,
        )
        built.append(dispatcher)
        return Actions(services, tenant.id, dispatcher, clock, queued)

    yield build
    for dispatcher in built:
        dispatcher.close()


@pytest.fixture
def actions(actions_factory: Callable[..., Actions]) -> Actions:
    return actions_factory(allow=("127.0.0.1/32",))


@pytest.fixture
def receiver_factory() -> Iterator[Callable[..., Receiver]]:
    started: list[Receiver] = []

    def start(*script: Reply, **kwargs: Any) -> Receiver:
        receiver = Receiver(list(script) or None, **kwargs)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.close()
