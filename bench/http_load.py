"""A lean HTTP/1.1 load generator: N keep-alive connections, each one request at a time.

httpx spends about as much CPU per request as a small Litestar handler does, so on a
2-core machine it measured itself more than the server. This client writes one
pre-built request and reads the response by its Content-Length, which is all a
benchmark of a JSON GET needs; anything else (chunked bodies, closed connections) is
reported as an error instead of being handled.
"""

import asyncio
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bench.common import BenchError, percentile_ms


@dataclass
class LoadResult:
    """What one load run saw; latencies in seconds, one per completed request."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    def summary(self) -> dict[str, float | int]:
        done = len(self.latencies)
        return {
            "requests": done,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "requests_per_second": round(done / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": percentile_ms(self.latencies, 50),
            "p99_ms": percentile_ms(self.latencies, 99),
        }


def build_request(url: str, headers: dict[str, str]) -> tuple[str, int, bytes]:
    """Host, port and the bytes of a keep-alive GET for `url`."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname is None or parts.port is None:
        raise BenchError(f"the load generator needs http://host:port/..., not {url}")
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {target} HTTP/1.1", f"Host: {parts.hostname}:{parts.port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return parts.hostname, parts.port, ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, _, rest = head.partition(b"\r\n")
    length = None
    for line in rest.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length is None:
        raise BenchError("a response had no Content-Length; the load generator cannot read it")
    await reader.readexactly(length)
    return int(status_line.split(b" ", 2)[1])


async def run_load(
    url: str, headers: dict[str, str], clients: int, requests: int, warm_up: int
) -> LoadResult:
    """`clients` connections share `requests` timed requests after `warm_up` untimed ones."""
    host, port, request = build_request(url, headers)
    connections = [await asyncio.open_connection(host, port) for _ in range(clients)]
    result = LoadResult()
    remaining = 0

    async def client(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timed: bool
    ) -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            status = await _exchange(reader, writer, request)
            if timed:
                result.latencies.append(time.perf_counter() - started)
                result.errors += status != 200

    async def phase(count: int, timed: bool) -> float:
        nonlocal remaining
        remaining = count
        started = time.perf_counter()
        await asyncio.gather(*(client(r, w, timed) for r, w in connections))
        return time.perf_counter() - started

    try:
        await phase(warm_up, timed=False)
        result.seconds = await phase(requests, timed=True)
    finally:
        for _, writer in connections:
            writer.close()
    return result
