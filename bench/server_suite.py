"""The server suite: `appliance serve` from process start to ready, idle memory, shutdown.

The server runs as a child process against a fresh data directory made by `initialise`
(the same code as `appliance init`), with the caller's settings written to a config file.
For comparison a bare interpreter that only imports litestar, nicegui and uvicorn is
measured the same way.
"""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import msgspec
import psutil

from app.initialise import initialise
from app.settings import Settings
from bench.common import BenchError

READY_TIMEOUT_S = 60.0
IDLE_SETTLE_S = 2.0
POLL_S = 0.05
TARGET_READY_S = 5.0
TARGET_IDLE_RSS_MB = 400.0
# shared libraries whose presence in the server's memory map means a model stack was loaded
HEAVY_LIBRARIES = ("libtorch", "libllama", "libggml", "libc10")
BASELINE_IMPORTS = ("litestar", "nicegui", "uvicorn")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _mb(value: int) -> float:
    return round(value / (1024 * 1024), 1)


def _toml(settings: Settings) -> str:
    """The settings as a config file (JSON scalars and string lists are valid TOML)."""
    lines = []
    for section, values in msgspec.to_builtins(settings).items():
        lines.append(f"[{section}]")
        lines.extend(f"{key} = {json.dumps(value)}" for key, value in values.items())
    return "\n".join(lines) + "\n"


def _bench_settings(settings: Settings, data_dir: Path) -> Settings:
    hosts = list(settings.server.allowed_hosts)
    if "127.0.0.1" not in hosts:
        hosts.append("127.0.0.1")
    server = msgspec.structs.replace(settings.server, host="127.0.0.1", allowed_hosts=hosts)
    storage = msgspec.structs.replace(settings.storage, data_dir=str(data_dir))
    return msgspec.structs.replace(settings, server=server, storage=storage)


def _appliance_command() -> list[str]:
    script = Path(sys.executable).with_name("appliance")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from app.cli import main; sys.exit(main())"]


def _child_env() -> dict[str, str]:
    # the config file written here is the only source of settings for the child
    return {k: v for k, v in os.environ.items() if not k.startswith("APPLIANCE_")}


def _memory(pid: int) -> dict[str, Any]:
    process = psutil.Process(pid)
    info = process.memory_full_info()
    children = process.children(recursive=True)
    child_rss = 0
    for child in children:
        try:
            child_rss += child.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    mapped = {m.path for m in process.memory_maps() if m.path}
    return {
        "idle_rss_mb": _mb(info.rss),
        "idle_uss_mb": _mb(info.uss),
        "children": len(children),
        "children_rss_mb": _mb(child_rss),
        "threads": process.num_threads(),
        "model_libraries_mapped": sorted(
            {lib for lib in HEAVY_LIBRARIES for path in mapped if lib in Path(path).name}
        ),
    }


def _tail(path: Path, lines: int = 20) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return []


def _wait_ready(process: subprocess.Popen[bytes], base: str, verify: bool) -> dict[str, Any]:
    started = time.monotonic()
    live_s: float | None = None
    last: str = "no answer"
    with httpx.Client(verify=verify, timeout=1.0) as client:
        while time.monotonic() - started < READY_TIMEOUT_S:
            if process.poll() is not None:
                return {"ready": False, "detail": f"server exited with {process.returncode}"}
            try:
                if live_s is None and client.get(f"{base}/api/v1/health/live").status_code == 200:
                    live_s = time.monotonic() - started
                answer = client.get(f"{base}/api/v1/health/ready")
                if answer.status_code == 200:
                    return {"ready": True, "live_s": live_s, "at": time.monotonic()}
                last = f"HTTP {answer.status_code}: {answer.text[:500]}"
            except httpx.HTTPError as exc:
                last = type(exc).__name__
            time.sleep(POLL_S)
    return {"ready": False, "detail": f"not ready after {READY_TIMEOUT_S:.0f}s ({last})"}


def _stop(process: subprocess.Popen[bytes], timeout: float) -> dict[str, Any]:
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        code: int | None = process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
        code = None
    return {"exit_code": code, "shutdown_seconds": round(time.monotonic() - started, 3)}


def measure_server(settings: Settings, workdir: Path) -> dict[str, Any]:
    data_dir = workdir / "data"
    bench_settings = _bench_settings(settings, data_dir)
    password_file = workdir / "admin-password"
    password_file.write_text(secrets.token_urlsafe(18) + "\n")
    password_file.chmod(0o600)
    admin_password = password_file.read_text().splitlines()[0]
    initialise(bench_settings, "admin", admin_password, demo=True, passphrase=None)
    config = workdir / "appliance.toml"
    config.write_text(_toml(bench_settings))
    port = _free_port()
    scheme = "https" if bench_settings.server.tls else "http"
    base = f"{scheme}://127.0.0.1:{port}"
    command = [
        *_appliance_command(), "serve", "--config", str(config), "--data-dir", str(data_dir),
        "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    log_path = workdir / "serve.log"
    result: dict[str, Any] = {"command": " ".join(command), "url": base}
    with log_path.open("wb") as log:
        started = time.monotonic()
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=_child_env())
        try:
            ready = _wait_ready(process, base, verify=not bench_settings.server.tls)
            if not ready["ready"]:
                result.update(ready=False, detail=ready["detail"])
            else:
                result["ready"] = True
                result["ready_seconds"] = round(ready["at"] - started, 3)
                result["live_seconds"] = round(ready["live_s"], 3) if ready["live_s"] else None
                time.sleep(IDLE_SETTLE_S)
                result.update(_memory(process.pid))
            if process.poll() is None:
                result.update(_stop(process, bench_settings.server.shutdown_timeout_s + 30))
            else:
                result.update(exit_code=process.returncode, shutdown_seconds=None)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)
    if not result["ready"] or result["exit_code"] != 0:
        result["log_tail"] = _tail(log_path)
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
        env=_child_env(),
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
    return {"imports": list(BASELINE_IMPORTS), "seconds": round(import_s, 3), "rss_mb": _mb(rss)}


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
