"""The api suite: an authenticated documents listing under 50 concurrent clients.

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

from app.bench.common import BenchError, percentile_ms
from app.bench.server_suite import (
    _appliance_command,
    _bench_settings,
    _child_env,
    _free_port,
    _stop,
    _toml,
    _wait_ready,
)
from app.initialise import initialise
from app.settings import Settings

CLIENTS = 50
WARM_UP = 200
TARGET_THROUGHPUT_RATIO = 0.7
TARGET_P99_MS = 50.0


async def _load(url: str, headers: dict[str, str], requests: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=30) as client:
        for _ in range(WARM_UP // CLIENTS):
            await asyncio.gather(*(client.get(url) for _ in range(CLIENTS)))
        queue: asyncio.Queue[int] = asyncio.Queue()
        for number in range(requests):
            queue.put_nowait(number)

        async def worker() -> None:
            nonlocal errors
            while not queue.empty():
                queue.get_nowait()
                started = time.perf_counter()
                response = await client.get(url)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CLIENTS)))
        seconds = time.perf_counter() - started
    return {
        "requests": requests,
        "errors": errors,
        "seconds": round(seconds, 3),
        "requests_per_second": round(requests / seconds, 1),
        "p50_ms": percentile_ms(latencies, 50),
        "p99_ms": percentile_ms(latencies, 99),
    }


def _start(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    return subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=_child_env())


def run_api(settings: Settings, requests: int = 3000) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="appliance-bench-api-") as scratch:
        workdir = Path(scratch)
        bench = _bench_settings(settings, workdir / "data")
        security = msgspec.structs.replace(bench.security, api_rate_limit_per_minute=10**7)
        bench = msgspec.structs.replace(bench, security=security)
        password = secrets.token_urlsafe(18)
        initialise(bench, "admin", password, demo=True, passphrase=None)
        config = workdir / "appliance.toml"
        config.write_text(_toml(bench))
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        appliance = _start(
            [*_appliance_command(), "serve", "--config", str(config), "--port", str(port)],
            workdir / "serve.log",
        )
        try:
            if not _wait_ready(appliance, base, verify=True)["ready"]:
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
            body = httpx.get(url, headers=headers).content
            appliance_result = asyncio.run(_load(url, headers, requests))
        finally:
            _stop(appliance, 30)
        body_file = workdir / "body.json"
        body_file.write_bytes(body)
        bare_port = _free_port()
        bare = _start(
            [sys.executable, "-m", "app.bench.bare_app", str(bare_port), str(body_file)],
            workdir / "bare.log",
        )
        try:
            bare_url = f"http://127.0.0.1:{bare_port}/api/v1/tenants/demo/documents?limit=20"
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if httpx.get(bare_url).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            bare_result = asyncio.run(_load(bare_url, {}, requests))
        finally:
            _stop(bare, 10)
    ratio = round(appliance_result["requests_per_second"] / bare_result["requests_per_second"], 3)
    return {
        "results": {
            "clients": CLIENTS,
            "appliance": appliance_result,
            "bare_litestar": bare_result,
            "throughput_ratio": ratio,
        },
        "targets": {
            "throughput_ratio": f">= {TARGET_THROUGHPUT_RATIO}",
            "p99_ms": f"< {TARGET_P99_MS}",
        },
        "met": {
            "throughput_ratio": ratio >= TARGET_THROUGHPUT_RATIO,
            "p99_ms": appliance_result["p99_ms"] < TARGET_P99_MS,
        },
    }
