"""A real data directory, a real encrypted Huey queue with worker threads, and the
supervisor wired as the server wires it, with the built-in control steps and test steps."""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agents.supervisor.service import Supervisor
from agents.supervisor.steps.control_steps import SetStep, WaitStep
from app.initialise import initialise
from app.queue import QueueRunner, build_huey
from app.services import Services, open_services
from app.workflow_wiring import for_each_tenant, wire_supervisor
from tests.agents.supervisor.steps_for_tests import Journal, steps_for
from tests.conftest import ADMIN_PASSWORD, make_settings

FINAL = ("succeeded", "failed", "cancelled")


@dataclass
class Flow:
    services: Services
    queue: QueueRunner
    supervisor: Supervisor
    journal: Journal
    tenant_id: str

    def save(self, source: str) -> str:
        return self.supervisor.create(self.tenant_id, source).id

    def run(self, workflow: str, inputs: dict[str, Any] | None = None, **kw: Any) -> str:
        return self.supervisor.run(self.tenant_id, workflow, inputs, **kw)

    def wait(
        self,
        run_id: str,
        timeout: float = 30.0,
        until: Callable[[dict[str, Any]], bool] | None = None,
    ) -> dict[str, Any]:
        """The run once it is final (or `until` holds)."""
        done = until or (lambda d: d["status"] in FINAL)
        deadline = time.monotonic() + timeout
        while True:
            detail = self.supervisor.run_detail(self.tenant_id, run_id)
            if done(detail):
                return detail
            if time.monotonic() > deadline:
                raise AssertionError(f"run still {detail['status']}: {detail['steps']}")
            time.sleep(0.05)

    def steps(self, detail: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {s["step_id"]: s for s in detail["steps"] if s["item"] is None}

    def start_up(self) -> None:
        for_each_tenant(self.services, self.supervisor, startup=True)


def build_flow(data_dir: Path, **sections: dict[str, Any]) -> Flow:
    settings = make_settings(
        data_dir,
        queue={"workers": 4, "poll_interval_s": 0.02, "max_poll_interval_s": 0.1},
        **sections,
    )
    if not (data_dir / "system.db").exists():
        initialise(settings, "admin", ADMIN_PASSWORD, demo=False, passphrase=None)
    services = open_services(settings, None)
    queue = QueueRunner(build_huey(services.data, services.master), settings)
    journal = Journal()
    supervisor = wire_supervisor(queue, services, [SetStep(), WaitStep(), *steps_for(journal)])
    tenants = services.system.list_tenants()
    tenant_id = tenants[0].id if tenants else services.tenants.create("acme").id
    return Flow(services, queue, supervisor, journal, tenant_id)


@pytest.fixture
def flow(tmp_path: Path) -> Iterator[Flow]:
    built = build_flow(tmp_path / "data")
    built.start_up()
    built.queue.start()
    yield built
    built.queue.stop()
    built.services.close()
