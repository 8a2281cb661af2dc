"""A private Debian `redis-server` on 127.0.0.1 (password, no persistence) for as long
as a `with` block runs; used by `bench scale` and by the tests of the Redis queue."""

import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REDIS_SERVER = "redis-server"


@dataclass(frozen=True)
class RedisServer:
    port: int
    password: str
    tls: bool = False

    def url(self, db: int = 0) -> str:
        scheme = "rediss" if self.tls else "redis"
        return f"{scheme}://:{self.password}@127.0.0.1:{self.port}/{db}"


@dataclass(frozen=True)
class RedisTls:
    """PEM files for a TLS-only server: its certificate (chain), key and client CA."""

    cert_file: Path
    key_file: Path
    ca_file: Path


def redis_binary() -> str | None:
    return shutil.which(REDIS_SERVER)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_redis_server(binary: str, tls: RedisTls | None = None) -> Iterator[RedisServer]:
    """Start `binary` on a free port with a random password (TLS only, on that port, when
    `tls` is given); stop it afterwards."""
    password = secrets.token_hex(16)
    port = _free_port()
    listen = f"port {port}\n"
    if tls is not None:
        listen = (
            f"port 0\ntls-port {port}\ntls-cert-file {tls.cert_file}\n"
            f"tls-key-file {tls.key_file}\ntls-ca-cert-file {tls.ca_file}\n"
            "tls-auth-clients no\n"
        )
    with tempfile.TemporaryDirectory(prefix="redis-") as workdir:
        config = Path(workdir) / "redis.conf"
        config.write_text(
            f'bind 127.0.0.1\n{listen}requirepass {password}\nsave ""\n'
            f"appendonly no\ndir {workdir}\ndaemonize no\nprotected-mode yes\n"
        )
        process = subprocess.Popen(
            [binary, str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        try:
            _wait_listening(port, process)
            yield RedisServer(port, password, tls=tls is not None)
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
            raise RuntimeError(f"redis-server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not start listening in 20 s")
