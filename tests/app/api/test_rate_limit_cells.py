"""The per-caller rate limit: a burst of N a minute, then one every 60/N seconds."""

from app.api.rate_limit import CellRateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_of_the_limit_passes_and_the_next_waits_its_turn() -> None:
    # GIVEN a limit of 6 a minute
    clock = Clock()
    limiter = CellRateLimiter(6, clock)
    # WHEN a caller sends 7 requests at once
    results = [limiter.take("alice") for _ in range(7)]
    # THEN 6 pass, counting down what remains, and the 7th is told when to retry
    assert [r[0] for r in results] == [True] * 6 + [False]
    assert [r[1] for r in results[:6]] == [5, 4, 3, 2, 1, 0]
    assert results[6][2] == 10
    # AND after the 10 s a sixth of a minute buys, one more passes, and only one
    clock.now += 10
    assert limiter.take("alice")[0] is True
    assert limiter.take("alice")[0] is False


def test_callers_have_separate_allowances() -> None:
    # GIVEN alice has spent her allowance; WHEN bob asks THEN he passes
    limiter = CellRateLimiter(2, Clock())
    assert [limiter.take("alice")[0] for _ in range(3)] == [True, True, False]
    assert limiter.take("bob")[0] is True


def test_a_full_minute_of_rest_restores_the_whole_burst() -> None:
    clock = Clock()
    limiter = CellRateLimiter(3, clock)
    # GIVEN an exhausted caller
    assert [limiter.take("k")[0] for _ in range(4)] == [True, True, True, False]
    # WHEN a minute passes THEN three pass again
    clock.now += 60
    assert [limiter.take("k")[0] for _ in range(4)] == [True, True, True, False]
