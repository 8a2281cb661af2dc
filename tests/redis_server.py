"""A real Debian `redis-server` on 127.0.0.1 for the Redis queue backend's tests.

Started once per test session with a password (so every test also proves the password
works and is never shown), no persistence, in a temporary directory. Missing binary:
skip, or fail under CI=true where it is a broken test machine.
"""

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REDIS_SERVER = "redis-server"


@dataclass(frozen=True)
class RedisServer:
    port: int
    password: str

    def url(self, db: int = 0) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/{db}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_redis() -> str:
    binary = shutil.which(REDIS_SERVER)
    if binary:
        return binary
    reason = "redis-server not found: install the Debian package redis-server"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def running_redis() -> Iterator[RedisServer]:
    """Body of a session fixture: the server for the session, stopped afterwards."""
    binary = require_redis()
    password = secrets.token_hex(16)
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="redis-test-") as workdir:
        config = Path(workdir) / "redis.conf"
        config.write_text(
            f'bind 127.0.0.1\nport {port}\nrequirepass {password}\nsave ""\n'
            f"appendonly no\ndir {workdir}\ndaemonize no\nprotected-mode yes\n"
        )
        process = subprocess.Popen(
            [binary, str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        try:
            _wait_listening(port, process)
            yield RedisServer(port, password)
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"redis-server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("redis-server did not start listening in 20 s")
