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
import time
from pathlib import Path
from typing import Any

import httpx
import msgspec
import psutil

from app.settings import Settings
from bench.common import BenchError
from bench.server_suite import appliance_command, free_port, settings_toml, stop_server, wait_ready

TARGET_RATIO = 0.97
ROUNDS = 12
# each load is a slice of the suite's request count: more, shorter pairs make the median
# robust against other work on the machine
SLICES = 4


def configured(settings: Settings, observed: bool) -> Settings:
    """`settings` with metrics and JSON logging both on, or both off."""
    observability = msgspec.structs.replace(settings.observability, metrics_enabled=observed)
    logging = msgspec.structs.replace(settings.logging, format="json" if observed else "text")
    # no drop-box watchers: two servers share the data directory
    ingest = msgspec.structs.replace(settings.ingest, dropbox_enabled=False)
    return msgspec.structs.replace(
        settings, observability=observability, logging=logging, ingest=ingest
    )


def _cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def _serve(settings: Settings, workdir: Path, name: str, env: dict[str, str]) -> tuple[Any, str]:
    config = workdir / f"{name}.toml"
    config.write_text(settings_toml(settings))
    port = free_port()
    handle = (workdir / f"{name}.log").open("wb")
    process = subprocess.Popen(
        [*appliance_command(), "serve", "--config", str(config), "--port", str(port)],
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
            if not wait_ready(process, base, verify=True)["ready"]:
                raise BenchError(f"the {name} appliance did not become ready; see {name}.log")
        base = servers["observed"][1]
        login = httpx.post(
            f"{base}/api/v1/auth/login", json={"username": "admin", "password": password}
        )
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        path = "/api/v1/tenants/demo/documents?limit=20"
        processes = {name: psutil.Process(process.pid) for name, (process, _) in servers.items()}
        per_load = max(requests // SLICES, 1000)
        paired: list[dict[str, Any]] = []
        for number in range(rounds):
            order = ("observed", "plain") if number % 2 == 0 else ("plain", "observed")
            figures = {}
            for name in order:
                cpu = _cpu_seconds(processes[name])
                figures[name] = load(servers[name][1] + path, headers, per_load)
                spent = _cpu_seconds(processes[name]) - cpu
                figures[name]["cpu_us_per_request"] = spent / per_load * 1e6
            observed, plain = figures["observed"], figures["plain"]
            paired.append(
                {
                    "order": list(order),
                    "observed_rps": observed["requests_per_second"],
                    "plain_rps": plain["requests_per_second"],
                    "observed_p99_ms": observed["p99_ms"],
                    "plain_p99_ms": plain["p99_ms"],
                    "ratio": round(
                        observed["requests_per_second"] / plain["requests_per_second"], 3
                    ),
                    "observed_cpu_us": round(observed["cpu_us_per_request"], 1),
                    "plain_cpu_us": round(plain["cpu_us_per_request"], 1),
                    # plain's CPU cost over observed's: 0.97 means 3 % more CPU per request
                    "cpu_ratio": round(
                        plain["cpu_us_per_request"] / observed["cpu_us_per_request"], 3
                    ),
                }
            )
            time.sleep(0.2)
        metrics_ok = httpx.get(f"{base}/metrics").status_code == 200
        plain_metrics = httpx.get(f"{servers['plain'][1]}/metrics").status_code
    finally:
        for process, _ in servers.values():
            stop_server(process, 30)
    median = round(statistics.median(r["ratio"] for r in paired), 3)
    return {
        "rounds": paired,
        "requests_per_load": per_load,
        "median_throughput_ratio": median,
        "median_cpu_per_request_ratio": round(statistics.median(r["cpu_ratio"] for r in paired), 3),
        "metrics_served_when_on": metrics_ok,
        "metrics_status_when_off": plain_metrics,
        "target": f">= {TARGET_RATIO}",
        "met": median >= TARGET_RATIO,
    }
