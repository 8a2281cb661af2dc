"""`appliance bench scale`: registered, and its queue part measures both backends."""

from app.settings import Settings
from bench.queue_roundtrip import run_queue_roundtrip
from bench.redis_process import RedisServer
from bench.suites import SUITES


def test_scale_is_a_suite() -> None:
    assert "scale" in SUITES


def test_the_queue_round_trip_measures_sqlite_and_redis_in_one_run(
    settings: Settings, redis_server: RedisServer
) -> None:
    # WHEN a short queue round trip runs on both backends
    result = run_queue_roundtrip(settings, redis_server, burst=40, rounds=2)
    # THEN each backend has its figures and the ratio is reported
    for backend in ("sqlite", "redis"):
        figures = result[backend]
        assert figures["tasks_per_s"] > 0 and len(figures["tasks_per_s_rounds"]) == 2
        assert figures["round_trip_p50_ms"] > 0
    assert result["ratio_redis_to_sqlite_tasks_per_s"] > 0
