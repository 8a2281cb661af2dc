"""The Redis queue backend's own behaviour: its URL, and a password never shown."""

from pathlib import Path

import pytest

from app.queue_backends import QueueBackendError, build_huey, close_storage, redact_url
from app.services import Services
from tests.conftest import make_settings
from tests.redis_server import RedisServer, TlsRedis


def test_redact_url_hides_the_password_and_keeps_the_rest() -> None:
    # GIVEN URLs with and without a password
    # THEN only the password is replaced
    assert redact_url("redis://:s3cret@10.0.0.5:6380/2") == "redis://:***@10.0.0.5:6380/2"
    assert redact_url("rediss://app:s3cret@q.example:6379/0") == "rediss://app:***@q.example:6379/0"
    assert redact_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_a_wrong_password_is_a_clear_error_that_never_shows_it(
    services: Services, redis_server: RedisServer, tmp_path: Path
) -> None:
    # GIVEN settings naming the real server with a wrong password
    wrong = "not-the-password-" + redis_server.password[:6]
    settings = make_settings(
        tmp_path / "other",
        queue={
            "backend": "redis",
            "redis_url": f"redis://:{wrong}@127.0.0.1:{redis_server.port}/0",
        },
    )
    # WHEN the queue is opened
    with pytest.raises(QueueBackendError) as caught:
        build_huey(services.data, services.master, settings)
    # THEN the error says what failed, names the server, and shows no password
    message = str(caught.value)
    assert f"127.0.0.1:{redis_server.port}" in message
    assert wrong not in message and redis_server.password not in message
    assert caught.value.status_code == 503 and caught.value.code == "queue_unavailable"


def test_an_unreachable_server_and_a_wrong_scheme_are_refused(
    services: Services, tmp_path: Path
) -> None:
    # GIVEN a port nobody listens on, and an http:// URL
    closed = make_settings(
        tmp_path / "a",
        queue={"backend": "redis", "redis_url": "redis://:pw@127.0.0.1:1/0", "redis_timeout_s": 1},
    )
    http = make_settings(tmp_path / "b", queue={"backend": "redis", "redis_url": "http://:pw@h/0"})
    # WHEN each is opened THEN each is refused with the reason, without the password
    for settings, reason in ((closed, "cannot use the Redis queue"), (http, "must start with")):
        with pytest.raises(QueueBackendError) as caught:
            build_huey(services.data, services.master, settings)
        assert reason in str(caught.value) and ":pw@" not in str(caught.value)


def test_a_tls_server_is_trusted_only_with_its_ca_and_the_error_shows_no_password(
    services: Services, redis_tls_server: TlsRedis, tmp_path: Path
) -> None:
    # GIVEN a TLS-only Redis whose certificate a private CA signed
    server = redis_tls_server.server
    without_ca = make_settings(
        tmp_path / "a", queue={"backend": "redis", "redis_url": server.url(), "redis_timeout_s": 2}
    )
    plain = make_settings(
        tmp_path / "b",
        queue={
            "backend": "redis",
            "redis_url": server.url().replace("rediss://", "redis://"),
            "redis_timeout_s": 2,
        },
    )
    # WHEN it is used without that CA, or without TLS
    # THEN each is refused with the reason, never the password
    for settings in (without_ca, plain):
        with pytest.raises(QueueBackendError) as caught:
            build_huey(services.data, services.master, settings)
        message = str(caught.value)
        assert "cannot use the Redis queue" in message and server.password not in message
    # WHEN the URL names the CA THEN a task goes through
    trusted = make_settings(
        tmp_path / "c", queue={"backend": "redis", "redis_url": redis_tls_server.url()}
    )
    huey = build_huey(services.data, services.master, trusted)
    try:
        assert huey.storage.conn.ping() is True
    finally:
        close_storage(huey)
