"""Repeated identical errors are logged once with a count, not once per occurrence."""

import logging

from app.observability.repeat_filter import RepeatFilter


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _records(handler_filter: RepeatFilter, clock: _Clock) -> list[logging.LogRecord]:
    kept: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            kept.append(record)

    logger = logging.getLogger("appliance.test.repeats")
    logger.propagate = False
    handler = Keep()
    handler.addFilter(handler_filter)
    logger.addHandler(handler)
    try:
        # a worker failing the same way once a second for two minutes
        for _ in range(120):
            try:
                raise OSError(28, "No space left on device")
            except OSError:
                logger.exception("dequeue failed")
            clock.now += 1
    finally:
        logger.removeHandler(handler)
    return kept


def test_the_same_error_every_second_is_logged_once_per_window_with_a_count() -> None:
    # GIVEN a one-minute window WHEN the same error is logged 120 times, once a second
    clock = _Clock()
    kept = _records(RepeatFilter(60.0, clock), clock)
    # THEN two lines are written: the first with its traceback, then one with the count
    assert len(kept) == 2
    assert kept[0].exc_info is not None
    assert kept[1].exc_info is None
    assert "repeated 59 more times" in kept[1].getMessage()


def test_one_record_is_judged_once_for_every_handler_sharing_the_filter() -> None:
    # GIVEN one filter on two handlers (console and file) WHEN a first error is logged
    clock = _Clock()
    repeats = RepeatFilter(60.0, clock)
    record = logging.LogRecord("appliance.x", logging.ERROR, __file__, 1, "boom", None, None)
    # THEN both handlers write it
    assert repeats.filter(record) and repeats.filter(record)
