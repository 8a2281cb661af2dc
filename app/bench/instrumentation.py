"""The cost of observability in `bench api`: the same listing with metrics and JSON logs on,
and with both off, in paired alternating rounds.

Two appliance servers run at once on the same data directory (already filled and
indexed by the api suite), one per configuration, so neither restarts between rounds;
each round loads one then the other, the order alternating, and the paired ratio
(on / off throughput) of each round is reported with their median, the figure held to
the target (the instrumentation costs at most 3 %).
"""

import statistics
import subprocess
from pathlib import Path
from typing import Any

import httpx
import msgspec

from app.bench.common import BenchError
from app.bench.server_suite import _appliance_command, _free_port, _stop, _toml, _wait_ready
from app.settings import Settings

TARGET_RATIO = 0.97
ROUNDS = 6


def configured(settings: Settings, observed: bool) -> Settings:
    """`settings` with metrics and JSON logging both on, or both off."""
    observability = msgspec.structs.replace(settings.observability, metrics_enabled=observed)
    logging = msgspec.structs.replace(settings.logging, format="json" if observed else "text")
    # no drop-box watchers: two servers share the data directory
    ingest = msgspec.structs.replace(settings.ingest, dropbox_enabled=False)
    return msgspec.structs.replace(
        settings, observability=observability, logging=logging, ingest=ingest
    )


def _serve(settings: Settings, workdir: Path, name: str, env: dict[str, str]) -> tuple[Any, str]:
    config = workdir / f"{name}.toml"
    config.write_text(_toml(settings))
    port = _free_port()
    handle = (workdir / f"{name}.log").open("wb")
    process = subprocess.Popen(
        [*_appliance_command(), "serve", "--config", str(config), "--port", str(port)],
        stdout=handle,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    return process, f"http://127.0.0.1:{port}"


def compare_instrumentation(
    settings: Settings,
    workdir: Path,
    password: str,
    requests: int,
    load: Any,
    env: dict[str, str],
    rounds: int = ROUNDS,
) -> dict[str, Any]:
    """Run both servers, `rounds` paired loads of `requests` each; ratios on / off."""
    servers = {
        "observed": _serve(configured(settings, True), workdir, "observed", env),
        "plain": _serve(configured(settings, False), workdir, "plain", env),
    }
    try:
        for name, (process, base) in servers.items():
            if not _wait_ready(process, base, verify=True)["ready"]:
                raise BenchError(f"the {name} appliance did not become ready; see {name}.log")
        base = servers["observed"][1]
        login = httpx.post(
            f"{base}/api/v1/auth/login", json={"username": "admin", "password": password}
        )
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        path = "/api/v1/tenants/demo/documents?limit=20"
        paired: list[dict[str, Any]] = []
        for number in range(rounds):
            order = ("observed", "plain") if number % 2 == 0 else ("plain", "observed")
            figures = {name: load(servers[name][1] + path, headers, requests) for name in order}
            paired.append(
                {
                    "order": list(order),
                    "observed_rps": figures["observed"]["requests_per_second"],
                    "plain_rps": figures["plain"]["requests_per_second"],
                    "observed_p99_ms": figures["observed"]["p99_ms"],
                    "plain_p99_ms": figures["plain"]["p99_ms"],
                    "ratio": round(
                        figures["observed"]["requests_per_second"]
                        / figures["plain"]["requests_per_second"],
                        3,
                    ),
                }
            )
        metrics_ok = httpx.get(f"{base}/metrics").status_code == 200
        plain_metrics = httpx.get(f"{servers['plain'][1]}/metrics").status_code
    finally:
        for process, _ in servers.values():
            _stop(process, 30)
    median = round(statistics.median(r["ratio"] for r in paired), 3)
    return {
        "rounds": paired,
        "requests_per_load": requests,
        "median_throughput_ratio": median,
        "metrics_served_when_on": metrics_ok,
        "metrics_status_when_off": plain_metrics,
        "target": f">= {TARGET_RATIO}",
        "met": median >= TARGET_RATIO,
    }
