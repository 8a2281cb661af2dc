"""`appliance serve`: one process with UI, API and queue; health; TLS; graceful stop."""

import signal
import ssl
import time
from pathlib import Path

import httpx
import pytest

from app.settings import Settings
from tests.conftest import write_config

pytestmark = pytest.mark.slow


def test_one_process_serves_ui_api_and_openapi_then_stops_cleanly(
    initialised: Settings, server_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a running server
    server = server_factory(initialised.data_dir, write_config(tmp_path / "c.toml", initialised))
    server.wait_ready()
    # WHEN its endpoints are called
    live = httpx.get(f"{server.base}/api/v1/health/live")
    ready = httpx.get(f"{server.base}/api/v1/health/ready").json()
    spec = httpx.get(f"{server.base}/api/v1/schema/openapi.json").json()
    login = httpx.get(f"{server.base}/login")
    missing = httpx.get(f"{server.base}/api/v1/no-such-route")
    # THEN health, OpenAPI, the UI and JSON errors all come from the same port
    assert live.json() == {"status": "live"}
    assert ready["status"] == "ready"
    assert {"system_db", "queue", "embedding_model", "llm_model", "disk"} <= set(ready["checks"])
    assert "/api/v1/health/ready" in spec["paths"]
    assert login.status_code == 200 and "Sign in" in login.text
    assert missing.status_code == 404
    assert missing.json() == {"status_code": 404, "detail": "Not Found", "code": "not_found"}
    # AND SIGTERM shuts it down gracefully with exit code 0
    server.process.send_signal(signal.SIGTERM)
    assert server.stop() == 0
    log = server.log.read_text()
    assert "queue stopped" in log and "databases closed" in log


def test_ctrl_c_also_exits_zero(initialised: Settings, server_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = server_factory(initialised.data_dir, write_config(tmp_path / "c.toml", initialised))
    server.wait_ready()
    server.process.send_signal(signal.SIGINT)
    assert server.stop() == 0


def test_dashboard_requires_sign_in(initialised: Settings, server_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = server_factory(initialised.data_dir, write_config(tmp_path / "c.toml", initialised))
    server.wait_ready()
    page = httpx.get(f"{server.base}/", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login"


def test_tls_uses_the_certificate_created_by_init(
    initialised: Settings, server_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN tls = true in the settings file
    config = write_config(tmp_path / "c.toml", initialised)
    config.write_text(config.read_text() + "\n[server]\ntls = true\n")
    server = server_factory(initialised.data_dir, config)
    cert = initialised.data_dir / "tls" / "cert.pem"
    # WHEN it is called over HTTPS, trusting only that certificate
    url = f"https://127.0.0.1:{server.port}/api/v1/health/live"
    context = ssl.create_default_context(cafile=str(cert))
    for _ in range(300):
        try:
            response = httpx.get(url, verify=context, timeout=2)
            break
        except httpx.HTTPError:
            if server.process.poll() is not None:
                raise AssertionError(server.log.read_text()) from None
            time.sleep(0.1)
    else:
        raise AssertionError("TLS server did not answer")
    # THEN the handshake succeeds and the private key on disk is encrypted
    assert response.json() == {"status": "live"}
    assert b"ENCRYPTED PRIVATE KEY" in (initialised.data_dir / "tls" / "key.pem").read_bytes()
    assert server.stop() == 0
