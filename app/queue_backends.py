"""The queue's storage: encrypted SQLite in the data directory (default) or Redis.

`[queue] backend = "sqlite" | "redis"`. Task payloads are ids only on both, so nothing
confidential reaches Redis; its URL may carry a password, which never appears in a log
line or an error message (`redact_url`).
"""

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from huey import Huey

from app.errors import AppError
from app.settings import Settings
from storage.datadir import DataDir
from storage.masterkey import MasterKey
from storage.queue_storage import EncryptedHuey

DEFAULT_QUEUE = "appliance"


class QueueBackendError(AppError):
    status_code = 503
    code = "queue_unavailable"


def redact_url(url: str) -> str:
    """The URL with any password replaced by `***` (safe for logs and errors)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def redact_text(text: str, url: str) -> str:
    """`text` with the URL's password (if any) blanked wherever it occurs."""
    password = urlsplit(url).password
    return text.replace(password, "***") if password else text


def queue_name(settings: Settings | None, group: str = "default") -> str:
    """The Huey queue name of a task group: `appliance`, or `appliance.<group>` for a
    group `[queue] separate` puts on a queue of its own."""
    base = settings.queue.name if settings is not None else DEFAULT_QUEUE
    return base if group == "default" else f"{base}.{group}"


def build_huey(
    data: DataDir, master: MasterKey, settings: Settings | None = None, group: str = "default"
) -> Huey:
    """The Huey instance of one queue (task group) on the configured backend."""
    name = queue_name(settings, group)
    if settings is not None and settings.queue.backend == "redis":
        return _redis_huey(settings, name)
    timeout = settings.storage.busy_timeout_ms / 1000 if settings is not None else 5.0
    return EncryptedHuey(
        name,
        filename=str(data.queue_db),
        key=master.queue_db_key,
        results=False,
        utc=True,
        # several processes share queue.db: a writer waits this long for the lock
        timeout=timeout,
        wal_max_bytes=settings.storage.wal_max_mb * 2**20 if settings is not None else 0,
    )


def close_storage(huey: Huey) -> None:
    """Close a queue's connections (SQLite's connection, or Redis's pool)."""
    huey.storage.close()
    pool = getattr(huey.storage, "pool", None)
    if pool is not None:
        pool.disconnect()


def _redis_huey(settings: Settings, name: str) -> Huey:
    try:
        from huey import RedisHuey
        from redis import ConnectionPool, RedisError
    except ImportError as exc:  # pragma: no cover - redis is a dependency
        raise QueueBackendError("the Python package 'redis' is not installed") from exc
    queue = settings.queue
    url = queue.redis_url
    if not re.match(r"^rediss?://", url):
        raise QueueBackendError(
            f"[queue] redis_url must start with redis:// or rediss://, not {redact_url(url)!r}"
        )
    options: dict[str, Any] = {
        # above Huey's blocking read (1 s), so an idle BRPOP is never cut short
        "socket_timeout": max(queue.redis_timeout_s, 2.0),
        "socket_connect_timeout": queue.redis_timeout_s,
        "health_check_interval": 30,
    }
    pool = None
    try:
        pool = ConnectionPool.from_url(url, **options)
        huey = RedisHuey(name, connection_pool=pool, results=False, utc=True)
        huey.storage.conn.ping()
    except (RedisError, ValueError) as exc:
        if pool is not None:
            pool.disconnect()
        reason = redact_text(f"{type(exc).__name__}: {exc}", url)
        raise QueueBackendError(
            f"cannot use the Redis queue at {redact_url(url)}: {reason}"
        ) from None
    return huey
