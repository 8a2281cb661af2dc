"""Many callers sharing the one real llama.cpp model: queued, never mixed up."""

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from agents.llm import LlamaCppBackend, LLMBusyError, LLMConfig, LLMService, Message
from agents.llm.queue import FairQueue
from agents.models import locate_llm_model

PROMPTS = [
    "Name three colours.",
    "What is 2 plus 2?",
    "Write one sentence about cats.",
    "Say hello in French.",
    "List two fruits.",
    "What is the opposite of hot?",
]


def ask(text: str) -> list[Message]:
    return [{"role": "user", "content": text}]


@pytest.fixture(scope="module")
def service() -> Iterator[LLMService]:
    llm = LLMService(LlamaCppBackend(locate_llm_model(""), LLMConfig(n_ctx=512, n_threads=2)))
    yield llm
    llm.close()


@pytest.mark.slow
def test_concurrent_callers_get_the_same_answers_as_sequential_ones(service: LLMService) -> None:
    # GIVEN the answers to six prompts asked one after another (greedy, so repeatable)
    expected = {p: service.complete(ask(p), max_tokens=16).text for p in PROMPTS}
    # WHEN the same six prompts arrive at once from six threads, twice over
    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [(p, pool.submit(service.complete, ask(p), max_tokens=16)) for p in PROMPTS * 2]
        got = [(p, future.result(timeout=300).text) for p, future in futures]
    # THEN every caller got its own, uncorrupted answer
    assert got == [(p, expected[p]) for p in PROMPTS * 2]


@pytest.mark.slow
def test_streams_completions_and_token_counts_can_overlap(service: LLMService) -> None:
    # GIVEN reference results for a stream, a completion and a token count
    stream_expected = "".join(service.stream(ask(PROMPTS[0]), max_tokens=16))
    complete_expected = service.complete(ask(PROMPTS[1]), max_tokens=16).text
    count_expected = service.count_tokens("Tokenising while the model generates is safe.")
    # WHEN all three kinds of call run together from several threads
    with ThreadPoolExecutor(max_workers=6) as pool:
        streams = [
            pool.submit(lambda: "".join(service.stream(ask(PROMPTS[0]), max_tokens=16)))
            for _ in range(2)
        ]
        completes = [
            pool.submit(service.complete, ask(PROMPTS[1]), max_tokens=16) for _ in range(2)
        ]
        counts = [
            pool.submit(service.count_tokens, "Tokenising while the model generates is safe.")
            for _ in range(20)
        ]
        # THEN each result matches its reference
        assert all(f.result(timeout=300) == stream_expected for f in streams)
        assert all(f.result(timeout=300).text == complete_expected for f in completes)
        assert all(f.result(timeout=300) == count_expected for f in counts)


@pytest.mark.slow
def test_a_caller_waiting_longer_than_the_queue_timeout_gets_busy_503() -> None:
    # GIVEN a service whose callers wait at most 0.2 s, and a stream holding the model
    backend = LlamaCppBackend(locate_llm_model(""), LLMConfig(n_ctx=256, n_threads=2))
    service = LLMService(backend, queue_timeout_s=0.2)
    try:
        stream = service.stream(ask(PROMPTS[0]), max_tokens=64)
        next(stream)
        # WHEN another caller arrives THEN it is told the model is busy
        with pytest.raises(LLMBusyError) as caught:
            service.complete(ask(PROMPTS[1]), max_tokens=4)
        assert caught.value.status_code == 503 and caught.value.code == "llm_busy"
        # AND once the stream is closed the next caller is served
        stream.close()  # type: ignore[attr-defined]
        assert service.complete(ask(PROMPTS[1]), max_tokens=4).text
    finally:
        service.close()


def test_queue_serves_waiters_in_arrival_order() -> None:
    # GIVEN a queue held by one caller and five callers arriving one after another
    queue = FairQueue()
    assert queue.acquire()
    order: list[int] = []

    def waiter(number: int) -> None:
        with queue.turn() as got:
            assert got
            order.append(number)

    threads = []
    for number in range(5):
        thread = threading.Thread(target=waiter, args=(number,))
        thread.start()
        threads.append(thread)
        while queue.waiting < number + 1:  # make the arrival order certain
            time.sleep(0.001)
    # WHEN the holder releases THEN they are served first come, first served
    queue.release()
    for thread in threads:
        thread.join(5)
    assert order == [0, 1, 2, 3, 4]
    assert not queue.busy and queue.waiting == 0


def test_queue_wait_times_out_without_taking_the_turn() -> None:
    # GIVEN a held queue WHEN another caller waits 50 ms THEN it gives up and is not queued
    queue = FairQueue()
    assert queue.acquire()
    assert not queue.acquire(timeout=0.05)
    assert queue.waiting == 0
    queue.release()
    # AND the queue is free again
    assert queue.acquire(timeout=0) and queue.busy
    queue.release()
