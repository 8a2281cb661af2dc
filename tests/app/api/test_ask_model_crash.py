"""Issue 21: a model process killed with -9 during an ask fails that ask with
`model_crashed`, and the next ask is answered by a new model process."""

import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.app.conftest import ApiWorld

pytestmark = pytest.mark.slow

REPORT = (
    "Harbour maintenance report. The north pier of Port Aldwin was repaired in March 2025 "
    "by Kestrel Marine Ltd for 48,200 EUR. Inspector Maria Olsen signed off the repair."
)


@pytest.fixture
def world(world_factory: Callable[..., ApiWorld]) -> ApiWorld:
    # long enough answers that the kill lands during generation
    return world_factory(models={"answer_max_tokens": 200})


def test_a_model_killed_during_an_ask_fails_that_ask_and_the_next_one_succeeds(
    world: ApiWorld,
) -> None:
    # GIVEN an indexed document and a model process that has answered once
    world.user("ann")
    world.tenant("alpha", ann="editor")
    ann = world.bearer("ann")
    added = world.client.post(
        "/api/v1/tenants/alpha/documents",
        json={"filename": "harbour.txt", "text": REPORT},
        headers=ann,
    )
    document_id = added.json()["items"][0]["id"]
    tenant_id = world.services.system.find_tenant("alpha").id
    world.runtime.ingest.parse(tenant_id, document_id)
    world.runtime.analysis.index_document(tenant_id, document_id)
    ask = {"question": "Who repaired the north pier and what did it cost?"}
    first = world.client.post("/api/v1/tenants/alpha/ask", json=ask, headers=ann)
    assert first.status_code == 200, first.text
    llm = world.runtime.llm
    assert llm is not None
    # the metrics wrap the backend: the model process is the inner one's
    backend: Any = getattr(llm.backend, "inner", llm.backend)
    pid = backend.process_id
    assert pid is not None and pid != os.getpid()
    # WHEN the model process is killed with SIGKILL while an ask is being answered
    outcome: dict[str, Any] = {}

    def asking() -> None:
        outcome["response"] = world.client.post("/api/v1/tenants/alpha/ask", json=ask, headers=ann)

    asker = threading.Thread(target=asking)
    asker.start()
    deadline = time.monotonic() + 60
    while not llm.status().busy and time.monotonic() < deadline:
        time.sleep(0.005)
    assert llm.status().busy, "the ask never reached the model"
    os.kill(pid, signal.SIGKILL)
    asker.join(timeout=120)
    # THEN that ask fails with 503 model_crashed and the server keeps answering
    response = outcome["response"]
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "model_crashed"
    # AND the next ask is answered by a new model process
    again = world.client.post("/api/v1/tenants/alpha/ask", json=ask, headers=ann)
    assert again.status_code == 200, again.text
    assert backend.process_id not in (None, pid)
