"""Which process holds a claim, and whether that process still runs.

A claim token is `<pid>:<start time>` (the start time in clock ticks since boot, from
/proc), so a pid the kernel reused for another program never passes for the process
that made the claim. Several appliance processes (server, `appliance worker`) share one
data directory; a reconciler uses this to tell work a live process is doing from work
a killed one left behind.
"""

import os
from functools import cache


def _start_ticks(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read().decode("ascii", "replace")
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: split after the last ')'
    fields = stat.rpartition(")")[2].split()
    # fields[0] is field 3 (state); the start time is field 22
    return fields[19] if len(fields) > 19 else None


@cache
def _token_of(pid: int) -> str:
    return f"{pid}:{_start_ticks(pid) or 0}"


def process_token() -> str:
    """This process's claim token (cached per pid, so a forked child gets its own)."""
    return _token_of(os.getpid())


def token_alive(token: str | None) -> bool:
    """True when the process that wrote `token` still runs."""
    if not token:
        return False
    pid_text, _, ticks = token.partition(":")
    if not pid_text.isdigit():
        return False
    started = _start_ticks(int(pid_text))
    if started is None:
        return False
    return not ticks or ticks == "0" or ticks == started
