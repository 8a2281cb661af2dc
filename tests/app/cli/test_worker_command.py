"""`appliance worker`: bad queue names are one-line errors; SIGTERM stops it cleanly."""

import signal
import subprocess
import time
from pathlib import Path

from tests.conftest import APPLIANCE, run_cli


def test_unknown_or_not_separate_queues_are_refused_in_one_line(
    data_dir: Path, config: Path
) -> None:
    # GIVEN a data directory whose settings put no group on a queue of its own
    common = ("--data-dir", str(data_dir), "--config", str(config))
    # WHEN a worker is asked for a queue that does not exist, and for one not separate
    unknown = run_cli("worker", "--queues", "invoices", *common)
    not_separate = run_cli("worker", "--queues", "documents", *common)
    # THEN each fails with a one-line reason naming what is possible
    for result, reason in ((unknown, "unknown queue"), (not_separate, "[queue] separate")):
        assert result.returncode == 1
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert reason in result.stderr


def test_a_worker_stops_on_sigterm_with_exit_code_0(data_dir: Path, config: Path) -> None:
    # GIVEN a running worker
    log = data_dir.parent / "worker.log"
    with log.open("w") as handle:
        worker = subprocess.Popen(
            [APPLIANCE, "worker", "--data-dir", str(data_dir), "--config", str(config)],
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while "worker running" not in log.read_text():
            assert worker.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        # WHEN it is sent SIGTERM
        worker.send_signal(signal.SIGTERM)
        # THEN it stops gracefully, having owned the periodic work while it ran
        assert worker.wait(60) == 0, log.read_text()
        assert "periodic owner" in log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
