"""The appliance with a real llama.cpp server as its LLM endpoint: `/health/ready` says
when the server is down and recovers by itself when it returns; model calls answer 503
`llm_unavailable` meanwhile and work again afterwards (issue 17)."""

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.initialise import initialise
from tests.conftest import (
    ADMIN_PASSWORD,
    FAST_SECURITY,
    RunningServer,
    free_port,
    make_settings,
    run_cli,
)
from tests.llama_server import LlamaServer, server_model_settings

pytestmark = pytest.mark.slow

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string", "maxLength": 30}},
    "required": ["city"],
}
CANARY_KEY = "sk-canary-health-5d1c"


@pytest.fixture
def own_llama(tmp_path: Path) -> Iterator[LlamaServer]:
    """A llama.cpp server of this test alone: the test stops and restarts it."""
    server = LlamaServer(tmp_path)
    server.start()
    yield server
    server.stop()


def _config(path: Path, llama: LlamaServer) -> Path:
    models = {**server_model_settings(llama), "llm_warm_on_start": False}
    models["remote_api_key"] = CANARY_KEY  # llama-cpp-python's server ignores it
    inference = {"max_retries": 0, "recheck_after_s": 0.5, "health_max_age_s": 0.5}
    lines = ["[security]", *(f"{k} = {v}" for k, v in FAST_SECURITY.items()), "[models]"]
    lines += [f"{k} = {_toml(v)}" for k, v in models.items()]
    lines += ["[inference]", *(f"{k} = {_toml(v)}" for k, v in inference.items())]
    path.write_text("\n".join(lines) + "\n")
    return path


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f'"{value}"' if isinstance(value, str) else str(value)


def _ready(server: RunningServer) -> httpx.Response:
    return httpx.get(f"{server.base}/api/v1/health/ready", timeout=10)


def _until(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.3)
    return False


def test_ready_says_when_the_llm_server_is_down_and_recovers_when_it_returns(
    tmp_path: Path, own_llama: LlamaServer, server_factory: Callable[..., RunningServer]
) -> None:
    # GIVEN an appliance whose LLM is a real llama.cpp server
    data = tmp_path / "data"
    initialise(make_settings(data), "admin", ADMIN_PASSWORD, demo=True, passphrase=None)
    server = server_factory(data, _config(tmp_path / "appliance.toml", own_llama))
    server.wait_ready(timeout=120)
    body = _ready(server).json()
    assert body["checks"]["llm_endpoints"]["ok"] is True
    assert "llm_model" not in body["checks"]  # no local GGUF is needed
    login = httpx.post(
        f"{server.base}/api/v1/auth/login",
        json={"username": "admin", "password": ADMIN_PASSWORD},
        timeout=30,
    )
    bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}

    def extract() -> httpx.Response:
        return httpx.post(
            f"{server.base}/api/v1/tenants/demo/extract",
            json={"text": "The harbour of Port Aldwin is in Kestrel.", "schema": SCHEMA},
            headers=bearer,
            timeout=120,
        )

    assert extract().status_code == 200
    # WHEN the LLM server process stops
    own_llama.stop()
    # THEN ready answers 503 naming the endpoint as down, without the API key
    assert _until(lambda: _ready(server).status_code == 503, 30), _ready(server).text
    down = _ready(server)
    endpoints = down.json()["checks"]["llm_endpoints"]
    assert endpoints["ok"] is False
    assert endpoints["endpoints"][0]["url"] == own_llama.base_url
    assert endpoints["endpoints"][0]["up"] is False
    assert CANARY_KEY not in down.text
    # AND a model call says the model is unavailable (503), not a 500
    refused = extract()
    assert refused.status_code == 503, refused.text
    assert refused.json()["code"] == "llm_unavailable"
    assert CANARY_KEY not in refused.text
    # WHEN the server comes back on the same address
    own_llama.start()
    # THEN the appliance is ready again by itself, and model calls work
    assert _until(lambda: _ready(server).status_code == 200, 30), _ready(server).text
    assert extract().status_code == 200
    assert CANARY_KEY not in server.log.read_text()


def test_doctor_checks_each_llm_server_without_showing_the_key(
    tmp_path: Path, llama_server: LlamaServer
) -> None:
    # GIVEN an appliance whose LLM servers are the real llama.cpp server and a dead port
    data = tmp_path / "data"
    initialise(make_settings(data), "admin", ADMIN_PASSWORD, demo=False, passphrase=None)
    config = _config(tmp_path / "appliance.toml", llama_server)
    dead = f"http://127.0.0.1:{free_port()}/v1"
    config.write_text(config.read_text() + f'llm_fallback_urls = ["{dead}"]\n')
    # WHEN the self-check runs
    done = run_cli("doctor", "--data-dir", str(data), "--config", str(config), timeout=300)
    output = done.stdout + done.stderr
    # THEN it names both servers, the dead one as failing, and never the key
    assert llama_server.base_url in output and dead in output, output
    assert done.returncode != 0
    assert CANARY_KEY not in output
