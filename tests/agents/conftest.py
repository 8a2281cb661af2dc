"""Shared fixtures for the ingest tests: a warm sandbox pool, real files, an HTTP canary."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from agents.ingest.sandbox.pool import SandboxPool


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxPool]:
    """One warm pool for the whole session (starting workers costs ~0.4 s each)."""
    with SandboxPool(max_workers=2) as pool:
        yield pool


@dataclass
class Canary:
    """An HTTP server on 127.0.0.1 that records every request it receives."""

    url: str
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def canary() -> Iterator[Canary]:
    """A live canary server; a parser that fetches external entities would hit it."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            body = b"CANARY-CONTENT"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield Canary(f"http://127.0.0.1:{server.server_address[1]}/canary", seen)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
