"""Exactly one process of a data directory owns the periodic work; when it dies (even
with -9) a waiting process takes over at once."""

import subprocess
import sys
import threading
import time
from pathlib import Path

from app.periodic_lease import PeriodicLease, Presence

HOLDER = """
import sys, time
from pathlib import Path
from app.periodic_lease import PeriodicLease, Presence
presence = Presence(Path(sys.argv[1]))
lease = PeriodicLease(Path(sys.argv[1]))
print("held" if lease.try_acquire() else "refused", flush=True)
time.sleep(120)
"""


def _holder(data_dir: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data_dir)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "held"
    return process


def _kill(process: subprocess.Popen[str]) -> None:
    process.kill()
    process.wait(10)
    if process.stdout is not None:
        process.stdout.close()


def test_a_second_process_is_refused_while_the_first_holds_it(tmp_path: Path) -> None:
    # GIVEN a process holding the lease
    holder = _holder(tmp_path)
    try:
        # WHEN this process asks for it
        lease = PeriodicLease(tmp_path)
        # THEN it is refused, and it knows it is not alone
        assert not lease.try_acquire()
        presence = Presence(tmp_path)
        assert not presence.alone()
        presence.close()
    finally:
        _kill(holder)


def test_kill_9_of_the_holder_hands_the_lease_to_the_waiting_process(tmp_path: Path) -> None:
    # GIVEN a holder and this process waiting for the lease
    holder = _holder(tmp_path)
    taken = threading.Event()
    lease = PeriodicLease(tmp_path)
    assert not lease.try_acquire()
    lease.wait_in_background(taken.set)
    time.sleep(0.2)
    assert not taken.is_set()
    # WHEN the holder is killed with -9
    _kill(holder)
    # THEN the waiting process owns it, and is alone now
    assert taken.wait(10) and lease.held
    presence = Presence(tmp_path)
    assert presence.alone()
    presence.close()
    lease.release()


def test_a_graceful_release_hands_it_over_within_one_process_too(tmp_path: Path) -> None:
    # GIVEN two leases in one process (two runtimes of a test), the first holding it
    first, second = PeriodicLease(tmp_path), PeriodicLease(tmp_path)
    assert first.try_acquire() and not second.try_acquire()
    taken = threading.Event()
    second.wait_in_background(taken.set)
    # WHEN the first releases it THEN the second has it
    first.release()
    assert taken.wait(10) and second.held
    second.release()
