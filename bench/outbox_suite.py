"""`appliance bench outbox`: webhook deliveries through the outbox beside plain httpx.

Both sides post the same 2,000 JSON bodies to the same local receiver with the same
concurrency (the outbox: that many queue workers; httpx: that many threads sharing one
client), in paired rounds of alternating order. The outbox side does all of its work:
each message is written as a step would write it (its own transaction), queued, claimed,
sent through the egress guard with Standard Webhooks headers, and recorded (one drain
per tenant at a time, so the outbox has one request in flight per tenant). Figures:
deliveries/s of each side and their ratio (target >= 0.8), and the p95 from step
completion (the row's commit) to the receiver getting the message.
"""

from __future__ import annotations

import json
import multiprocessing
import queue as queue_module
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import msgspec

from agents.act import outbox
from agents.act.dispatcher import DeliverTask
from app.act_wiring import build_dispatcher
from app.initialise import initialise
from app.queue import QueueRunner, build_huey
from app.services import open_services
from app.settings import Settings
from bench.common import BenchError, percentile_ms

TARGET_RATIO = 0.8
MESSAGES = 2000
ROUNDS = 2  # each round sends MESSAGES / ROUNDS per side, the order alternating


def _serve(port_out: Any, arrivals: Any) -> None:
    """The receiver process: answers 204 and reports (key, arrival time) per request."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            arrivals.put((self.headers.get("webhook-id") or body.decode(), time.perf_counter()))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_out.put(server.server_address[1])
    server.serve_forever()


class _Receiver:
    """A local webhook receiver in its own process (as the real receiver would be: it does
    not compete for this process's interpreter lock). perf_counter is the system's
    monotonic clock, so arrival times compare with this process's."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        ports, self._arrivals = context.Queue(), context.Queue()
        self.process = context.Process(target=_serve, args=(ports, self._arrivals), daemon=True)
        self.process.start()
        self.url = f"http://127.0.0.1:{ports.get(timeout=60)}/hook"
        self.arrived: dict[str, float] = {}

    def wait_for(self, keys: list[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        missing = {k for k in keys if k not in self.arrived}
        while missing:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BenchError("the receiver did not get every message in time")
            try:
                key, at = self._arrivals.get(timeout=min(left, 1.0))
            except queue_module.Empty:
                continue
            self.arrived.setdefault(key, at)
            missing.discard(key)

    def close(self) -> None:
        self.process.terminate()
        self.process.join(10)


def _bodies(round_no: int, count: int, side: str) -> list[bytes]:
    return [
        json.dumps({"side": side, "round": round_no, "n": n, "text": "x" * 200}).encode()
        for n in range(count)
    ]


def _httpx_round(receiver: _Receiver, bodies: list[bytes], concurrency: int) -> float:
    with httpx.Client(timeout=30, limits=httpx.Limits(max_connections=concurrency)) as client:
        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            list(
                pool.map(lambda b: client.post(receiver.url, content=b).raise_for_status(), bodies)
            )
        elapsed = time.perf_counter() - started
    receiver.wait_for([b.decode() for b in bodies], 60)
    return elapsed


def _outbox_round(
    receiver: _Receiver,
    services: Any,
    dispatcher: Any,
    tenant_id: str,
    bodies: list[bytes],
    round_no: int,
    concurrency: int,
) -> tuple[float, list[float]]:
    """`concurrency` threads complete steps (each writes its row in a transaction of its
    own, grouped into shared commits as concurrent engine workers' are) and queue them."""
    db = services.tenants.database(tenant_id)
    completed: dict[str, float] = {}

    def complete(item: tuple[int, bytes]) -> None:
        n, body = item
        message = outbox.new_message(
            f"bench-{round_no}-{n}",
            "webhook",
            {"method": "POST", "url": receiver.url, "headers": {}, "body": body.decode()},
            endpoint=f"url:{receiver.url}",
            max_bytes=1 << 20,
        )
        db.write_together(lambda conn: outbox.insert_message(conn, message, time.time()))
        completed[message.id] = time.perf_counter()
        dispatcher.enqueue(DeliverTask(tenant_id, message.id), 0.0)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(complete, enumerate(bodies)))
    receiver.wait_for(list(completed), 300)
    elapsed = max(receiver.arrived[k] for k in completed) - started
    latencies = [receiver.arrived[k] - t for k, t in completed.items()]
    return elapsed, latencies


def run_outbox(settings: Settings, messages: int = MESSAGES) -> dict[str, Any]:
    concurrency = settings.queue.workers
    per_round = messages // ROUNDS
    with tempfile.TemporaryDirectory(prefix="bench-outbox-") as scratch:
        raw = msgspec.to_builtins(settings)
        raw["storage"]["data_dir"] = str(Path(scratch) / "data")
        raw["actions"]["egress_allow"] = ["127.0.0.1/32"]
        local = msgspec.convert(raw, Settings)
        initialise(local, "admin", "bench-admin-password", demo=False, passphrase=None)
        services = open_services(local, None)
        receiver = _Receiver()
        queue = QueueRunner(build_huey(services.data, services.master), local)
        try:
            dispatcher = build_dispatcher(queue, services)
            tenant_id = services.tenants.create("bench").id
            queue.start()
            sides: dict[str, dict[str, Any]] = {
                "outbox": {"seconds": 0.0, "latencies": []},
                "httpx": {"seconds": 0.0},
            }
            for round_no in range(ROUNDS):
                order = ("httpx", "outbox") if round_no % 2 == 0 else ("outbox", "httpx")
                for side in order:
                    bodies = _bodies(round_no, per_round, side)
                    if side == "httpx":
                        sides["httpx"]["seconds"] += _httpx_round(receiver, bodies, concurrency)
                    else:
                        seconds, latencies = _outbox_round(
                            receiver, services, dispatcher, tenant_id, bodies, round_no, concurrency
                        )
                        sides["outbox"]["seconds"] += seconds
                        sides["outbox"]["latencies"] += latencies
            delivered = outbox.counts(services.tenants.database(tenant_id))["delivered"]
        finally:
            queue.stop()
            receiver.close()
            services.close()
    total = per_round * ROUNDS
    outbox_rate = total / sides["outbox"]["seconds"]
    httpx_rate = total / sides["httpx"]["seconds"]
    latencies = sides["outbox"]["latencies"]
    ratio = round(outbox_rate / httpx_rate, 3)
    return {
        "results": {
            "messages_per_side": total,
            "concurrency": concurrency,
            "outbox_deliveries_per_s": round(outbox_rate, 1),
            "httpx_posts_per_s": round(httpx_rate, 1),
            "ratio": ratio,
            "completion_to_delivery_p50_ms": percentile_ms(latencies, 50),
            "completion_to_delivery_p95_ms": percentile_ms(latencies, 95),
            "outbox_rows_delivered": delivered,
        },
        "targets": {"ratio": f">= {TARGET_RATIO}"},
        "met": {"ratio": ratio >= TARGET_RATIO},
    }
