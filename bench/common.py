"""Helpers shared by the benchmark suites: machine description, percentiles, rounding,
and running `appliance serve` as a child process."""

import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
import msgspec
import numpy as np
import psutil
import sqlcipher3
import sqlite_vec

from app.errors import AppError
from app.settings import Settings


class BenchError(AppError):
    """A benchmark could not run (bad arguments, a server that never became ready)."""

    status_code = 500
    code = "bench_error"


def _package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        return None
    return None


def library_versions() -> dict[str, Any]:
    conn = sqlcipher3.connect(":memory:")
    try:
        cipher = conn.execute("PRAGMA cipher_version").fetchone()
        conn.enable_load_extension(True)
        sqlite_vec.load(conn)
        vec = conn.execute("SELECT vec_version()").fetchone()[0]
    finally:
        conn.close()
    return {
        "sqlcipher": cipher[0] if cipher else None,
        "sqlite": sqlcipher3.sqlite_version,
        "sqlcipher3_package": _package_version("sqlcipher3"),
        "sqlite_vec": vec,
        "sqlite_vec_package": _package_version("sqlite-vec"),
    }


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def machine_info() -> dict[str, Any]:
    return {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_mb": psutil.virtual_memory().total // (1024 * 1024),
        # other work on the machine while measuring makes the figures noisier
        "load_average_1m_at_start": load_average(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        **library_versions(),
    }


def percentile_ms(samples_s: Sequence[float], q: float) -> float:
    return round(float(np.percentile(np.asarray(samples_s), q)) * 1000, 3)


def ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 3) if denominator > 0 else None


# -- an appliance server as a child process (server, api and ui suites) --------------
# shared libraries whose presence in the server's memory map means a model stack was loaded
HEAVY_LIBRARIES = ("libtorch", "libllama", "libggml", "libc10")
READY_TIMEOUT_S = 60.0
POLL_S = 0.05


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def megabytes(value: int) -> float:
    return round(value / (1024 * 1024), 1)


def settings_toml(settings: Settings) -> str:
    """The settings as a config file (JSON scalars and string lists are valid TOML)."""
    lines = []
    for section, values in msgspec.to_builtins(settings).items():
        lines.append(f"[{section}]")
        lines.extend(f"{key} = {json.dumps(value)}" for key, value in values.items())
    return "\n".join(lines) + "\n"


def server_settings(settings: Settings, data_dir: Path) -> Settings:
    hosts = list(settings.server.allowed_hosts)
    if "127.0.0.1" not in hosts:
        hosts.append("127.0.0.1")
    server = msgspec.structs.replace(settings.server, host="127.0.0.1", allowed_hosts=hosts)
    storage = msgspec.structs.replace(settings.storage, data_dir=str(data_dir))
    return msgspec.structs.replace(settings, server=server, storage=storage)


def appliance_command() -> list[str]:
    script = Path(sys.executable).with_name("appliance")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from app.cli import main; sys.exit(main())"]


def child_env() -> dict[str, str]:
    # the config file written here is the only source of settings for the child
    return {k: v for k, v in os.environ.items() if not k.startswith("APPLIANCE_")}


def process_memory(pid: int) -> dict[str, Any]:
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
        "idle_rss_mb": megabytes(info.rss),
        "idle_uss_mb": megabytes(info.uss),
        "children": len(children),
        "children_rss_mb": megabytes(child_rss),
        "threads": process.num_threads(),
        "model_libraries_mapped": sorted(
            {lib for lib in HEAVY_LIBRARIES for path in mapped if lib in Path(path).name}
        ),
    }


def log_tail(path: Path, lines: int = 20) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return []


def wait_ready(process: subprocess.Popen[bytes], base: str, verify: bool) -> dict[str, Any]:
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


def stop_server(process: subprocess.Popen[bytes], timeout: float) -> dict[str, Any]:
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        code: int | None = process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
        code = None
    return {"exit_code": code, "shutdown_seconds": round(time.monotonic() - started, 3)}
