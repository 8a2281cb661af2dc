"""A real Debian `redis-server` on 127.0.0.1 for the Redis queue backend's tests.

Started once per test session (bench/redis_process.py) with a password, so every test
also proves the password works and is never shown. Missing binary: skip, or fail under
CI=true where it is a broken test machine.
"""

import os
from collections.abc import Iterator

import pytest

from bench.redis_process import RedisServer, redis_binary, running_redis_server

__all__ = ["RedisServer", "running_redis"]


def running_redis() -> Iterator[RedisServer]:
    """Body of a session fixture: the server for the session, stopped afterwards."""
    binary = redis_binary()
    if binary is None:
        reason = "redis-server not found: install the Debian package redis-server"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    with running_redis_server(binary) as server:
        yield server
