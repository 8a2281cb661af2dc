"""Shared fixtures: real data directories with real SQLCipher files, fast argon2 for tests."""

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agents.openmp_policy import apply_openmp_wait_policy
from app.initialise import initialise
from app.services import Services, open_services
from app.settings import Settings, load_settings
from tests.llama_server import LlamaServer
from tests.redis_server import RedisServer, TlsRedis, running_redis, running_tls_redis

# torch and llama.cpp share this process; both load libgomp, which reads this once
apply_openmp_wait_policy()

ADMIN_PASSWORD = "correct horse battery staple"
APPLIANCE = str(Path(sys.executable).with_name("appliance"))

# argon2 at production cost would make every test that creates a user slow
FAST_SECURITY = {
    "argon2_memory_kib": 8192,
    "argon2_time_cost": 1,
    "passphrase_kdf_memory_kib": 8192,
    "passphrase_kdf_time_cost": 1,
}


def make_settings(data_dir: Path, **sections: dict[str, Any]) -> Settings:
    overrides: dict[str, dict[str, Any]] = {
        "storage": {"data_dir": str(data_dir)},
        "security": dict(FAST_SECURITY),
        "logging": {"to_file": True},
        # servers in tests do not load the LLM unless a test asks a question
        "models": {"llm_warm_on_start": False},
    }
    for name, values in sections.items():
        overrides.setdefault(name, {}).update(values)
    return load_settings(None, environ={}, overrides=overrides)


def write_config(path: Path, settings: Settings) -> Path:
    """A TOML file holding the test's security overrides (for CLI subprocesses)."""
    lines = ["[security]"] + [f"{k} = {v}" for k, v in FAST_SECURITY.items()]
    lines += ["[models]", "llm_warm_on_start = false"]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def initialised(settings: Settings) -> Settings:
    initialise(settings, "admin", ADMIN_PASSWORD, demo=True, passphrase=None)
    return settings


@pytest.fixture
def services(initialised: Settings) -> Iterator[Services]:
    opened = open_services(initialised, None)
    yield opened
    opened.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """Run the real console script; returns the completed process with text output."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("APPLIANCE_")}
    full_env.update(env or {})
    return subprocess.run(
        [APPLIANCE, *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        check=False,
        **kwargs,
    )


class RunningServer:
    """`appliance serve` in a child process, stopped with SIGTERM."""

    def __init__(
        self,
        data_dir: Path,
        config: Path | None = None,
        *,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        args = [APPLIANCE, "serve", "--data-dir", str(data_dir), "--port", str(self.port)]
        if config is not None:
            args += ["--config", str(config)]
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("APPLIANCE_")}
        full_env.update(env or {})
        self.log = data_dir.parent / f"serve-{self.port}.log"
        self._log_handle = self.log.open("w")
        self.process = subprocess.Popen(
            args, stdout=self._log_handle, stderr=subprocess.STDOUT, env=full_env, cwd=cwd
        )
        self.started = time.monotonic()

    def wait_ready(self, timeout: float = 60) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.base}/api/v1/health/ready", timeout=2).status_code == 200:
                    return time.monotonic() - self.started
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"server not ready in {timeout}s:\n{self.log.read_text()}")

    def stop(self, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            code = self.process.wait(timeout)
        finally:
            self._log_handle.close()
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._log_handle.close()


@pytest.fixture
def server_factory() -> Iterator[Any]:
    started: list[RunningServer] = []

    def start(
        data_dir: Path,
        config: Path | None = None,
        *,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> RunningServer:
        server = RunningServer(data_dir, config, cwd=cwd, env=env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


def tree_snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under root with its size and mtime, to prove nothing changed."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def without_dac_override() -> list[str]:
    """A command prefix that makes root respect file permissions (CI runs as root)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise AssertionError("setpriv (util-linux) is needed to test permissions as root")
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--bounding-set={caps}", f"--inh-caps={caps}", "--"]


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """One real llama.cpp chat server for the whole session (tests must not stop it)."""
    server = LlamaServer(tmp_path_factory.mktemp("llama-server"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def llama_embed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """A real llama.cpp server with /v1/embeddings over the packaged GGUF (576 dimensions,
    one vector per token: the appliance pools them)."""
    server = LlamaServer(tmp_path_factory.mktemp("llama-embed"), embedding=True, n_ctx=512)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A real redis-server on 127.0.0.1 (with a password) for the whole session."""
    yield from running_redis()


@pytest.fixture(scope="session")
def redis_tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsRedis]:
    """The same, TLS only (`rediss://`), its certificate signed by a throw-away CA."""
    yield from running_tls_redis(tmp_path_factory.mktemp("redis-tls"))
