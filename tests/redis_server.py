"""A real Debian `redis-server` on 127.0.0.1 for the Redis queue backend's tests.

Started once per test session (bench/redis_process.py) with a password, so every test
also proves the password works and is never shown. Missing binary: skip, or fail under
CI=true where it is a broken test machine.
"""

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.redis_process import RedisServer, RedisTls, redis_binary, running_redis_server
from tests.agents.tls_certificates import write_certificates

__all__ = ["RedisServer", "TlsRedis", "running_redis", "running_tls_redis"]


@dataclass(frozen=True)
class TlsRedis:
    """A TLS-only server and the CA that signed its certificate."""

    server: RedisServer
    ca_file: Path

    def url(self) -> str:
        """A `rediss://` URL that trusts the test CA (redis-py reads `ssl_ca_certs`)."""
        return f"{self.server.url()}?ssl_ca_certs={self.ca_file}"


def running_redis(tls: RedisTls | None = None) -> Iterator[RedisServer]:
    """Body of a fixture: the server (TLS only with `tls`), stopped afterwards."""
    binary = redis_binary()
    if binary is None:
        reason = "redis-server not found: install the Debian package redis-server"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    with running_redis_server(binary, tls) as server:
        yield server


def running_tls_redis(workdir: Path) -> Iterator[TlsRedis]:
    """Body of a fixture: a TLS-only server whose certificate a fresh CA in `workdir`
    signed, stopped afterwards."""
    ca_file = write_certificates(workdir)
    tls = RedisTls(workdir / "server.pem", workdir / "server.key", ca_file)
    for server in running_redis(tls):
        yield TlsRedis(server, ca_file)
