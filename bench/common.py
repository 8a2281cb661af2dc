"""Helpers shared by the benchmark suites: machine description, percentiles, rounding."""

import os
import platform
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

import numpy as np
import psutil
import sqlcipher3
import sqlite_vec

from app.errors import AppError


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
