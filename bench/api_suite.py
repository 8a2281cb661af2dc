"""The api suite: an authenticated documents listing under 50 concurrent clients.

Then the cost of observability: the same listing with metrics and JSON logging on
against both off, in paired alternating rounds (bench/instrumentation.py).

The appliance (`appliance serve`, bearer token, tenant guard, encrypted tenant database)
and a bare Litestar app serving the same JSON at the same path without auth run as
separate processes; one load generator drives both with the same number of concurrent
keep-alive clients, one after the other, in the same run.
"""

import asyncio
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import msgspec

from app.initialise import initialise
from app.services import open_services
from app.settings import Settings
from bench.common import (
    BenchError,
    appliance_command,
    child_env,
    free_port,
    server_settings,
    settings_toml,
    stop_server,
    wait_ready,
)
from bench.http_load import run_load
from bench.instrumentation import compare_instrumentation

CLIENTS = 50
WARM_UP = 200
TARGET_THROUGHPUT_RATIO = 0.7
TARGET_P99_MS = 50.0


def _load(url: str, headers: dict[str, str], requests: int) -> dict[str, Any]:
    result = asyncio.run(run_load(url, headers, CLIENTS, requests, WARM_UP))
    return dict(result.summary())


def _wait_indexed(url: str, headers: dict[str, str], seconds: float = 300) -> None:
    """The uploads are indexed in the background; the timed part must not share the CPU
    with the embedding model loading and running."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        items = httpx.get(url, headers=headers).json()["items"]
        if all(item["state"] in {"indexed", "failed", "unsupported"} for item in items):
            return
        time.sleep(0.5)
    raise BenchError("the uploaded documents were not indexed in time; see the server log")


def _start(command: list[str], log: Path, stdin_text: str | None = None) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
        stdout=handle,
        stderr=subprocess.STDOUT,
        env=child_env(),
    )
    if stdin_text is not None and process.stdin is not None:
        # the key goes through a pipe: arguments are visible to every user in `ps`
        process.stdin.write(stdin_text.encode())
        process.stdin.close()
    return process


def _tenant_file(settings: Settings, slug: str) -> tuple[Path, str]:
    """Path and raw key (hex) of a tenant database, for the bare reference app."""
    services = open_services(settings, None)
    try:
        tenant = services.system.find_tenant(slug)
        return services.data.tenant_db(tenant.id), services.tenants.data_key(tenant.id).hex()
    finally:
        services.close()


def _first_body(process: subprocess.Popen[bytes], url: str, seconds: float = 30) -> bytes:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            response = httpx.get(url)
            if response.status_code == 200:
                return response.content
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise BenchError("the bare reference app did not answer; see bare.log")


def run_api(settings: Settings, requests: int = 3000) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="appliance-bench-api-") as scratch:
        workdir = Path(scratch)
        bench = server_settings(settings, workdir / "data")
        security = msgspec.structs.replace(bench.security, api_rate_limit_per_minute=10**7)
        bench = msgspec.structs.replace(bench, security=security)
        password = secrets.token_urlsafe(18)
        initialise(bench, "admin", password, demo=True, passphrase=None)
        config = workdir / "appliance.toml"
        config.write_text(settings_toml(bench))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        appliance = _start(
            [*appliance_command(), "serve", "--config", str(config), "--port", str(port)],
            workdir / "serve.log",
        )
        try:
            if not wait_ready(appliance, base, verify=True)["ready"]:
                raise BenchError("the appliance did not become ready; see its log")
            login = httpx.post(
                f"{base}/api/v1/auth/login", json={"username": "admin", "password": password}
            )
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            for number in range(25):
                httpx.post(
                    f"{base}/api/v1/tenants/demo/documents",
                    json={"filename": f"n{number}.txt", "text": f"bench note {number}"},
                    headers=headers,
                )
            url = f"{base}/api/v1/tenants/demo/documents?limit=20"
            _wait_indexed(url, headers)
            body = httpx.get(url, headers=headers).content
            appliance_result = _load(url, headers, requests)
        finally:
            stop_server(appliance, 30)
        db_path, key_hex = _tenant_file(bench, "demo")
        bare_port = free_port()
        bare = _start(
            [sys.executable, "-m", "bench.bare_app", str(bare_port), str(db_path)],
            workdir / "bare.log",
            stdin_text=key_hex + "\n",
        )
        try:
            bare_url = f"http://127.0.0.1:{bare_port}/api/v1/tenants/demo/documents?limit=20"
            bare_body = _first_body(bare, bare_url)
            if msgspec.json.decode(bare_body) != msgspec.json.decode(body):
                raise BenchError("the bare app's listing differs from the appliance's")
            bare_result = _load(bare_url, {}, requests)
        finally:
            stop_server(bare, 10)
        instrumentation = compare_instrumentation(
            bench, workdir, password, requests, _load, child_env()
        )
    ratio = round(appliance_result["requests_per_second"] / bare_result["requests_per_second"], 3)
    return {
        "results": {
            "clients": CLIENTS,
            "appliance": appliance_result,
            "bare_litestar": bare_result,
            "throughput_ratio": ratio,
            # metrics + JSON logs on vs both off (bench/instrumentation.py)
            "instrumentation": instrumentation,
        },
        "targets": {
            "throughput_ratio": f">= {TARGET_THROUGHPUT_RATIO}",
            "p99_ms": f"< {TARGET_P99_MS}",
            "instrumentation_throughput_ratio": instrumentation["target"],
        },
        "met": {
            "throughput_ratio": ratio >= TARGET_THROUGHPUT_RATIO,
            "p99_ms": appliance_result["p99_ms"] < TARGET_P99_MS,
            "instrumentation_throughput_ratio": instrumentation["met"],
        },
    }
