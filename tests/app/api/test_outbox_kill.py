"""Acceptance: the server is killed (-9) three times during 300 webhook deliveries to a
local receiver; after the last restart every message id arrived at least once, and the
repeats are at most one per kill (one queue worker: one delivery in flight at a time)."""

import collections
import threading
import time
from pathlib import Path

import httpx
import pytest

from app.settings import Settings
from tests.agents.act.receivers import Receiver
from tests.conftest import ADMIN_PASSWORD, RunningServer, write_config

pytestmark = pytest.mark.slow
MESSAGES = 300
KILLS = 3


def _config(tmp_path: Path, settings: Settings) -> Path:
    config = write_config(tmp_path / "c.toml", settings)
    config.write_text(
        config.read_text()
        + '\n[actions]\negress_allow = ["127.0.0.1/32"]\n\n[queue]\nworkers = 1\n'
        + "poll_interval_s = 0.05\nmax_poll_interval_s = 0.2\n"
    )
    return config


class Sender:
    """Posts the messages one by one through POST /outbox, re-posting (same key) any
    whose request was cut off by a kill, against whichever server is current."""

    def __init__(self, receiver_url: str) -> None:
        self.base = ""
        self.headers: dict[str, str] = {}
        self.receiver_url = receiver_url
        self.accepted = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        for n in range(MESSAGES):
            body = {
                "kind": "webhook",
                "url": f"{self.receiver_url}/in",
                "json": {"n": n},
                "key": f"msg-{n}",
            }
            while True:
                try:
                    response = httpx.post(
                        f"{self.base}/api/v1/tenants/demo/outbox",
                        json=body,
                        headers=self.headers,
                        timeout=10,
                    )
                    if response.status_code == 202:
                        self.accepted += 1
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)


def _login(base: str) -> dict[str, str]:
    token = httpx.post(
        f"{base}/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    ).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _wait(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_kill_9_three_times_during_300_deliveries_loses_none(
    initialised: Settings, server_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a receiver that takes a little time per request, and a running server
    receiver = Receiver(delay_s=0.02)
    config = _config(tmp_path, initialised)
    server: RunningServer = server_factory(initialised.data_dir, config)
    server.wait_ready()
    sender = Sender(receiver.url)
    sender.base, sender.headers = server.base, _login(server.base)

    def unique() -> int:
        return len({s.headers["webhook-id"] for s in receiver.seen})

    try:
        # WHEN the 300 messages are sent while the server is killed three times
        sender.thread.start()
        for kill in range(1, KILLS + 1):
            _wait(lambda k=kill: unique() >= k * 70, 120, f"{kill * 70} deliveries")
            server.kill()
            server = server_factory(initialised.data_dir, config)
            server.wait_ready()
            sender.base = server.base
        sender.thread.join(180)
        _wait(lambda: unique() >= MESSAGES, 180, "every message")
        # the outbox agrees: all delivered
        _wait(
            lambda: (
                httpx.get(
                    f"{server.base}/api/v1/tenants/demo/outbox", headers=sender.headers
                ).json()["counts"]["delivered"]
                == MESSAGES
            ),
            60,
            "the outbox to show every message delivered",
        )
    finally:
        receiver.close()

    # THEN every id arrived at least once; repeats at most one per kill
    counts = collections.Counter(s.headers["webhook-id"] for s in receiver.seen)
    assert len(counts) == MESSAGES
    assert set(counts) == {f"api-msg-{n}:webhook" for n in range(MESSAGES)}
    repeats = sum(c - 1 for c in counts.values())
    assert repeats <= KILLS, counts.most_common(5)
