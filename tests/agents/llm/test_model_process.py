"""The llama.cpp model in its own process: a crash there fails one call, never the server."""

import logging
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from agents.llm import (
    LlamaProcessBackend,
    LLMConfig,
    LLMService,
    LLMUnavailableError,
    Message,
    ModelCrashedError,
)
from agents.llm.model_process import ModelProcess
from agents.models import ModelLocation

pytestmark = pytest.mark.slow  # starts model processes

QUESTION: list[Message] = [{"role": "user", "content": "What is the capital of France?"}]
STORY: list[Message] = [
    {"role": "user", "content": "Write a very long story about a lighthouse keeper."}
]
# An enum value that makes llama.cpp's grammar code call abort() (issue 21). The service
# refuses it up front; sent straight to the backend it reaches the native code.
ABORTING_SCHEMA = {
    "type": "object",
    "properties": {"label": {"type": "string", "enum": ["\u0014"]}},
    "required": ["label"],
    "additionalProperties": False,
}


def _backend(service: LLMService) -> LlamaProcessBackend:
    backend = service.backend
    assert isinstance(backend, LlamaProcessBackend)
    return backend


def _running_pid(service: LLMService) -> int:
    service.load()
    pid = _backend(service).process_id
    assert pid is not None
    return pid


def test_the_model_loads_once_and_stays_warm_across_calls(process_service: LLMService) -> None:
    # GIVEN the model process WHEN several calls of each kind are made
    pid = _running_pid(process_service)
    first = process_service.complete(QUESTION, max_tokens=8).text
    pieces = list(process_service.stream(QUESTION, max_tokens=8))
    tokens = process_service.count_tokens("Hello world")
    # THEN one process served them all, with the same answers as ever
    assert _backend(process_service).process_id == pid != os.getpid()
    assert "".join(pieces) == first and tokens == 2
    status = process_service.status()
    assert status.loaded and 50_000_000 < status.memory_bytes < 500_000_000


def test_stream_pieces_cross_the_process_boundary_as_they_are_made(
    process_service: LLMService,
) -> None:
    # GIVEN a streamed generation
    started = time.monotonic()
    arrivals: list[float] = []
    pieces: list[str] = []
    for piece in process_service.stream(QUESTION, max_tokens=24):
        arrivals.append(time.monotonic() - started)
        pieces.append(piece)
    # THEN the text came in many pieces, spread over the generation (not in one lump),
    # and it is the text a completion gives
    assert len(pieces) > 5
    assert arrivals[0] < arrivals[-1] / 2
    assert "".join(pieces) == process_service.complete(QUESTION, max_tokens=24).text


def test_tokens_are_counted_while_another_caller_streams(process_service: LLMService) -> None:
    # GIVEN a stream that has produced its first piece
    stream = process_service.stream(STORY, max_tokens=60)
    first = next(stream)
    # WHEN tokens are counted meanwhile THEN the count comes back, and the stream goes on
    assert process_service.count_tokens("Hello world") == 2
    rest = list(stream)
    assert first and rest


def test_a_stream_closed_early_frees_the_model_for_the_next_caller(
    process_service: LLMService,
) -> None:
    # GIVEN a stream the caller abandons after one piece
    stream = process_service.stream(STORY, max_tokens=200)
    next(stream)
    stream.close()  # type: ignore[attr-defined]
    # THEN the turn passes on and the next answer is the model's usual one
    assert not process_service.status().busy
    assert process_service.complete(QUESTION, max_tokens=8).text == (
        "".join(process_service.stream(QUESTION, max_tokens=8))
    )


def test_a_model_process_killed_during_a_completion_fails_that_call_only(
    process_service: LLMService,
) -> None:
    # GIVEN a long completion under way in another thread
    pid = _running_pid(process_service)
    outcome: dict[str, Any] = {}

    def ask() -> None:
        try:
            outcome["answer"] = process_service.complete(STORY, max_tokens=300)
        except Exception as error:  # noqa: BLE001 - the test inspects it
            outcome["error"] = error

    asker = threading.Thread(target=ask)
    asker.start()
    while not process_service.status().busy:
        time.sleep(0.01)
    time.sleep(0.3)
    # WHEN the model process is killed with SIGKILL
    os.kill(pid, signal.SIGKILL)
    asker.join(timeout=60)
    # THEN that call fails with model_crashed (503) and the next call gets an answer
    # from a new process
    error = outcome.get("error")
    assert isinstance(error, ModelCrashedError), outcome
    assert error.status_code == 503 and error.code == "model_crashed"
    assert process_service.complete(QUESTION, max_tokens=8).text
    assert _backend(process_service).process_id not in (None, pid)


def test_a_model_process_killed_during_a_stream_fails_that_stream(
    process_service: LLMService,
) -> None:
    # GIVEN a stream that has started
    pid = _running_pid(process_service)
    stream = process_service.stream(STORY, max_tokens=200)
    next(stream)
    # WHEN the process is killed THEN the stream ends with model_crashed
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(ModelCrashedError):
        for _ in stream:
            pass
    # AND the model is free and answers again
    assert not process_service.status().busy
    assert list(process_service.stream(QUESTION, max_tokens=4))


def test_a_native_abort_is_logged_with_the_reason_and_the_model_restarts(
    process_service: LLMService, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN a grammar llama.cpp aborts on, sent past the service's checks
    backend = _backend(process_service)
    pid = _running_pid(process_service)
    # WHEN generating under it
    with caplog.at_level(logging.ERROR, logger="agents.llm.model_process"):
        with pytest.raises(ModelCrashedError):
            backend.complete(
                QUESTION, max_tokens=64, temperature=0.0, stop=(), json_schema=ABORTING_SCHEMA
            )
    # THEN only the model process died; the log says how, with llama.cpp's own words
    assert os.getpid() != pid
    crash = [r.getMessage() for r in caplog.records if "ended" in r.getMessage()]
    assert crash and "SIGABRT" in crash[0] and "llama-grammar" in crash[0]
    assert not backend.loaded
    # AND the next call starts a new process that answers
    assert process_service.complete(QUESTION, max_tokens=4).text
    assert backend.process_id not in (None, pid)


def test_a_file_that_is_no_model_is_refused_as_unavailable(tmp_path: Path) -> None:
    # GIVEN a "model" file that is not GGUF
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"not a model at all" * 100)
    backend = LlamaProcessBackend(ModelLocation("bogus", bogus), LLMConfig(n_ctx=256))
    # WHEN it is loaded THEN a 503 llm_unavailable says so, and no process is left over
    with pytest.raises(LLMUnavailableError) as caught:
        backend.load()
    assert caught.value.status_code == 503 and caught.value.code == "llm_unavailable"
    assert not backend.loaded and backend.process_id is None


def test_a_silent_model_process_is_stopped_after_the_call_timeout(
    process_service: LLMService,
) -> None:
    # GIVEN a model process whose calls may wait only a moment
    backend = _backend(process_service)
    backend.load()
    slow = ModelProcess(
        ModelLocation(backend.model_name, _model_path(backend)),
        LLMConfig(n_ctx=256),
        call_timeout_s=0.05,
        startup_timeout_s=300,
    )
    try:
        # WHEN a generation takes longer than that
        with pytest.raises(ModelCrashedError) as caught:
            slow.call(
                "complete",
                messages=STORY,
                max_tokens=200,
                temperature=0.0,
                stop=[],
                json_schema=None,
                seed=None,
            )
        # THEN the call fails as a crash and the process is gone
        assert "did not answer" in str(caught.value)
        assert not slow.alive
    finally:
        slow.close()


def _model_path(backend: LlamaProcessBackend) -> Path:
    return backend._model.path  # the same packaged model file
