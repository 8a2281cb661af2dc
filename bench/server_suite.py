"""The server suite: `appliance serve` from process start to ready, idle memory, shutdown.

The server runs as a child process against a fresh data directory made by `initialise`
(the same code as `appliance init`), with the caller's settings written to a config file.
For comparison a bare interpreter that only imports litestar, nicegui and uvicorn is
measured the same way.
"""

import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from app.initialise import initialise
from app.settings import Settings
from bench.common import (
    BenchError,
    appliance_command,
    child_env,
    free_port,
    log_tail,
    megabytes,
    process_memory,
    server_settings,
    settings_toml,
    stop_server,
    wait_ready,
)

READY_TIMEOUT_S = 60.0
IDLE_SETTLE_S = 2.0
POLL_S = 0.05
TARGET_READY_S = 5.0
TARGET_IDLE_RSS_MB = 400.0
BASELINE_IMPORTS = ("litestar", "nicegui", "uvicorn")


def measure_server(settings: Settings, workdir: Path) -> dict[str, Any]:
    data_dir = workdir / "data"
    child_settings = server_settings(settings, data_dir)
    password_file = workdir / "admin-password"
    password_file.write_text(secrets.token_urlsafe(18) + "\n")
    password_file.chmod(0o600)
    admin_password = password_file.read_text().splitlines()[0]
    initialise(child_settings, "admin", admin_password, demo=True, passphrase=None)
    config = workdir / "appliance.toml"
    config.write_text(settings_toml(child_settings))
    port = free_port()
    scheme = "https" if child_settings.server.tls else "http"
    base = f"{scheme}://127.0.0.1:{port}"
    command = [
        *appliance_command(), "serve", "--config", str(config), "--data-dir", str(data_dir),
        "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    log_path = workdir / "serve.log"
    result: dict[str, Any] = {"command": " ".join(command), "url": base}
    with log_path.open("wb") as log:
        started = time.monotonic()
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=child_env())
        try:
            ready = wait_ready(process, base, verify=not child_settings.server.tls)
            if not ready["ready"]:
                result.update(ready=False, detail=ready["detail"])
            else:
                result["ready"] = True
                result["ready_seconds"] = round(ready["at"] - started, 3)
                result["live_seconds"] = round(ready["live_s"], 3) if ready["live_s"] else None
                time.sleep(IDLE_SETTLE_S)
                result.update(process_memory(process.pid))
            if process.poll() is None:
                result.update(stop_server(process, child_settings.server.shutdown_timeout_s + 30))
            else:
                result.update(exit_code=process.returncode, shutdown_seconds=None)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)
    if not result["ready"] or result["exit_code"] != 0:
        result["log_tail"] = log_tail(log_path)
    return result


def measure_baseline() -> dict[str, Any]:
    """A bare interpreter that imports the web stack and waits: its time and memory."""
    code = (
        f"import {', '.join(BASELINE_IMPORTS)}, sys\n"
        "sys.stdout.write('imported\\n'); sys.stdout.flush(); sys.stdin.read()\n"
    )
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=child_env(),
    )
    try:
        if process.stdout is None or process.stdin is None:
            raise BenchError("the baseline interpreter has no pipes")
        line = process.stdout.readline()
        import_s = time.monotonic() - started
        if line.strip() != b"imported":
            raise BenchError(f"the baseline interpreter failed to import {BASELINE_IMPORTS}")
        rss = psutil.Process(process.pid).memory_info().rss
        process.stdin.close()
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()
    return {
        "imports": list(BASELINE_IMPORTS),
        "seconds": round(import_s, 3),
        "rss_mb": megabytes(rss),
    }


def run_server(settings: Settings) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="appliance-bench-server-") as tmp:
        server = measure_server(settings, Path(tmp))
    baseline = measure_baseline()
    ready_s = server.get("ready_seconds")
    rss = server.get("idle_rss_mb")
    comparison = {
        "ready_vs_import_baseline": round(ready_s / baseline["seconds"], 3) if ready_s else None,
        "idle_rss_vs_import_baseline": round(rss / baseline["rss_mb"], 3) if rss else None,
        "idle_rss_above_import_baseline_mb": round(rss - baseline["rss_mb"], 1) if rss else None,
    }
    return {
        "parameters": {
            "idle_settle_seconds": IDLE_SETTLE_S,
            "poll_interval_seconds": POLL_S,
            "ready_timeout_seconds": READY_TIMEOUT_S,
            "data_dir": "fresh, made by initialise() with a demo tenant",
        },
        "results": {"server": server, "import_baseline": baseline, "comparison": comparison},
        "targets": {"ready_seconds_max": TARGET_READY_S, "idle_rss_mb_max": TARGET_IDLE_RSS_MB},
        "met": {
            "ready_seconds": ready_s is not None and ready_s < TARGET_READY_S,
            "idle_rss_mb": rss is not None and rss < TARGET_IDLE_RSS_MB,
            "clean_shutdown": server.get("exit_code") == 0,
            "no_model_loaded_at_idle": server.get("model_libraries_mapped") == [],
        },
    }
