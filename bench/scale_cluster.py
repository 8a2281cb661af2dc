"""Several appliance processes on one data directory: `serve` (with or without its own
queue workers) plus `appliance worker` processes, as children of this process.

Shared by `appliance bench scale` and the acceptance tests of issue 17 (two workers and
the server ingest and index real files; one worker killed with -9 mid-way).
"""

import os
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from app.services import open_services
from app.settings import Settings
from bench.common import appliance_command, child_env, free_port

READY_TIMEOUT_S = 120.0
UPLOAD_BATCH = 50  # files per multipart request (the API takes up to 100)


@dataclass
class Child:
    """One appliance process and its log file."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def kill_9(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self, timeout: float = 60) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            return None


@dataclass
class Cluster:
    """The processes of one data directory; `config` is the settings file they all read."""

    settings: Settings
    config: Path
    children: list[Child] = field(default_factory=list)
    base: str = ""

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    def _spawn(self, name: str, args: Sequence[str]) -> Child:
        log = self.data_dir.parent / f"{name}.log"
        handle = log.open("w")
        command = [
            *appliance_command(),
            *args,
            "--data-dir",
            str(self.data_dir),
            "--config",
            str(self.config),
        ]
        process = subprocess.Popen(
            command, stdout=handle, stderr=subprocess.STDOUT, env=child_env()
        )
        handle.close()
        child = Child(name, process, log)
        self.children.append(child)
        return child

    def start_worker(self, name: str, *extra: str) -> Child:
        """`appliance worker`; returns once it says it runs (its start-up recovery done)."""
        child = self._spawn(name, ["worker", *extra])
        deadline = time.monotonic() + READY_TIMEOUT_S
        while "worker running" not in child.log_text():
            if child.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker {name} did not start:\n{child.log_text()[-2000:]}")
            time.sleep(0.05)
        return child

    def start_server(self, *, workers: bool) -> Child:
        """`appliance serve` (`--no-workers` unless `workers`); returns once it is ready."""
        port = free_port()
        args = ["serve", "--port", str(port)] + ([] if workers else ["--no-workers"])
        child = self._spawn("server", args)
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if child.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start:\n{child.log_text()[-2000:]}")
            try:
                if httpx.get(f"{self.base}/api/v1/health/ready", timeout=2).status_code == 200:
                    return child
            except httpx.HTTPError:
                pass
            time.sleep(0.1)

    def login(self, username: str, password: str) -> dict[str, str]:
        answer = httpx.post(
            f"{self.base}/api/v1/auth/login",
            json={"username": username, "password": password},
            timeout=30,
        )
        answer.raise_for_status()
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def upload(
        self, tenant: str, headers: dict[str, str], files: Sequence[tuple[str, bytes]]
    ) -> list[dict[str, Any]]:
        """Upload through the API in multipart batches; returns every item it answered."""
        items: list[dict[str, Any]] = []
        with httpx.Client(timeout=120) as client:
            for start in range(0, len(files), UPLOAD_BATCH):
                batch = files[start : start + UPLOAD_BATCH]
                answer = client.post(
                    f"{self.base}/api/v1/tenants/{tenant}/documents",
                    files=[("files", (name, data)) for name, data in batch],
                    headers=headers,
                )
                answer.raise_for_status()
                items += answer.json()["items"]
        return items

    def states(self, tenant: str) -> dict[str, int]:
        """Documents of the tenant by state, read from its database (WAL: a reader
        beside the running processes)."""
        services = open_services(self.settings, None)
        try:
            tenant_id = services.system.find_tenant(tenant).id
            with services.tenants.database(tenant_id).read() as conn:
                rows = conn.execute(
                    "SELECT state, count(*) FROM documents GROUP BY state"
                ).fetchall()
        finally:
            services.close()
        return {state: int(count) for state, count in rows}

    def wait_for(
        self, tenant: str, total: int, timeout: float, state: str = "indexed"
    ) -> dict[str, int]:
        """Poll until `total` documents reached a final state; returns the last counts."""
        deadline = time.monotonic() + timeout
        while True:
            states = self.states(tenant)
            final = sum(states.get(s, 0) for s in (state, "failed", "unsupported"))
            if final >= total or time.monotonic() > deadline:
                return states
            time.sleep(0.25)

    def stop_all(self) -> dict[str, int | None]:
        """SIGTERM to every child still running (workers first, then the server)."""
        codes: dict[str, int | None] = {}
        for child in sorted(self.children, key=lambda c: c.name == "server"):
            if child.process.poll() is None:
                codes[child.name] = child.stop()
            else:
                codes[child.name] = child.process.returncode
        return codes
