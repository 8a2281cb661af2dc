"""The request line and headers are bounded by the real server (issue 21, item 3): too
large a head is a 431, too long a URL a 414, both as the API's JSON error, and a client
streaming an endless header is cut off instead of slowing everyone else down."""

import json
import socket
import threading
from typing import Any

import httpx
import pytest

from app.api.limits import MAX_HEAD_BYTES, MAX_HEADERS, MAX_URL_BYTES
from app.settings import Settings
from tests.conftest import write_config

pytestmark = pytest.mark.slow


@pytest.fixture
def server(initialised: Settings, server_factory: Any, tmp_path: Any) -> Any:
    running = server_factory(initialised.data_dir, write_config(tmp_path / "c.toml", initialised))
    running.wait_ready()
    return running


def _raw(port: int, head: bytes) -> tuple[int, dict[str, Any]]:
    """Send a raw request head; the status and JSON body of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        try:
            sock.sendall(head)
        except OSError:
            pass  # the server may close while we still send; its answer is already there
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    body = rest.partition(b"\r\n\r\n")[2]
    return int(status_line.split()[1]), json.loads(body)


def _error(status: int, body: dict[str, Any], expected: int, code: str) -> None:
    assert status == expected, body
    assert body == {"status_code": expected, "detail": body["detail"], "code": code}


def test_a_header_larger_than_the_limit_is_a_431_json_error(server: Any) -> None:
    big = b"x" * (MAX_HEAD_BYTES + 1)
    status, body = _raw(
        server.port,
        b"GET /api/v1/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + big + b"\r\n\r\n",
    )
    _error(status, body, 431, "headers_too_large")


def test_too_many_header_fields_are_a_431_json_error(server: Any) -> None:
    headers = {f"x-h{i}": "v" for i in range(MAX_HEADERS + 1)}
    for path in ("/api/v1/health/live", "/login"):
        response = httpx.get(f"{server.base}{path}", headers=headers)
        _error(response.status_code, response.json(), 431, "headers_too_large")


@pytest.mark.parametrize("length", [MAX_URL_BYTES + 100, 70 * 1024, 1024 * 1024])
def test_a_url_longer_than_the_limit_is_a_414_json_error(server: Any, length: int) -> None:
    path = b"/api/v1/health/live?q=" + b"a" * length
    status, body = _raw(server.port, b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    _error(status, body, 414, "uri_too_long")


def test_a_malformed_request_is_a_400_json_error(server: Any) -> None:
    status, body = _raw(server.port, b"GET / HTTP/1.1\r\nBad Header Name\r\n\r\n")
    _error(status, body, 400, "bad_request")


def test_an_endless_header_is_cut_off_and_others_are_served_meanwhile(server: Any) -> None:
    # GIVEN a client that starts a header and streams 256 MiB into it
    sent = 0
    refused = threading.Event()

    def stream_header() -> None:
        nonlocal sent
        chunk = b"y" * 65536
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            sock.sendall(b"GET /api/v1/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
            try:
                while sent < 256 * 2**20:
                    sock.sendall(chunk)
                    sent += len(chunk)
            except OSError:
                refused.set()

    streamer = threading.Thread(target=stream_header)
    streamer.start()
    # WHEN other clients ask meanwhile
    answers = [httpx.get(f"{server.base}/api/v1/health/live", timeout=30) for _ in range(20)]
    streamer.join(120)
    # THEN they are all answered, and the streaming client was disconnected long before
    # it got its 256 MiB out (the socket buffers hold a few MiB at most)
    assert [a.status_code for a in answers] == [200] * 20
    assert refused.is_set() and sent < 32 * 2**20
    # AND the server is still there
    assert httpx.get(f"{server.base}/api/v1/health/live").status_code == 200
