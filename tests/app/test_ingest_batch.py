"""A batch (`IngestService.receive_many`) bounds what it holds in memory at once."""

import threading
from collections.abc import Callable

from agents.ingest.service import Arrival, ReceiveResult
from tests.app.conftest import ApiWorld


def test_a_batch_holds_no_more_declared_bytes_than_its_limit_and_still_takes_a_larger_file(
    world: ApiWorld,
) -> None:
    # GIVEN six 1,000-byte notes and one 5,000-byte note, a limit of 2,500 bytes in flight
    world.tenant("acme")
    tenant_id = world.services.system.find_tenant("acme").id
    ingest = world.runtime.ingest
    lock = threading.Lock()
    counts = {"read": 0, "finished": 0, "most_in_flight": 0}

    def reader(content: bytes) -> Callable[[], bytes]:
        def read() -> bytes:
            with lock:
                counts["read"] += 1
                in_flight = counts["read"] - counts["finished"]
                counts["most_in_flight"] = max(counts["most_in_flight"], in_flight)
            return content

        return read

    contents = [f"note {n} ".encode().ljust(1000, b".") for n in range(6)]
    contents.append(b"the large note ".ljust(5000, b"."))
    arrivals = [
        Arrival(filename=f"n{n}.txt", source="cli", read=reader(c), size=len(c))
        for n, c in enumerate(contents)
    ]
    # WHEN the batch is received
    states = []
    for _, result in ingest.receive_many(tenant_id, arrivals, max_bytes=2500):
        with lock:
            counts["finished"] += 1
        assert isinstance(result, ReceiveResult)
        states.append(result.document.state)
    # THEN every note was parsed (the large one too), never more than two at once
    assert states == ["parsed"] * 7
    assert counts["most_in_flight"] <= 2
