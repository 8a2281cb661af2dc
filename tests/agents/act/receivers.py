"""Local HTTP servers for the action tests: a scriptable receiver that records requests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b'{"ok": true}'


class Receiver:
    """An HTTP server on 127.0.0.1 that records every request and answers from `script`
    (a list of Replies used in order, the last one repeated) or `handler`."""

    def __init__(
        self,
        script: list[Reply] | None = None,
        handler: Callable[[Seen], Reply] | None = None,
        port: int = 0,
        delay_s: float = 0.0,
    ) -> None:
        self.seen: list[Seen] = []
        self.script = list(script or [Reply()])
        self.handler = handler
        self.delay_s = delay_s
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                seen = Seen(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
                reply = receiver.reply_to(seen)
                if receiver.delay_s:
                    time.sleep(receiver.delay_s)
                self.send_response(reply.status)
                for name, value in {"Content-Type": "application/json", **reply.headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def reply_to(self, seen: Seen) -> Reply:
        with self._lock:
            self.seen.append(seen)
            if self.handler is not None:
                return self.handler(seen)
            return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    def json_bodies(self) -> list[Any]:
        return [json.loads(s.body) for s in self.seen]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
