"""Login throttling per account and per client address, persisted in `login_failures`.

A throttled attempt is refused before any password is checked, so argon2 never runs for
it: a locked-out attacker costs the server one indexed query, not 19 MiB of hashing.
"""

import hashlib
import math
import time
from collections.abc import Callable
from typing import Any

from app.errors import AppError
from app.settings import SecuritySettings
from storage.database import Database

Clock = Callable[[], float]


class LoginThrottled(AppError):
    status_code = 429
    code = "too_many_attempts"


def account_key(username: str) -> str:
    """The throttle's name for an account: a hash of the case-folded name, because a
    mistyped "username" is sometimes the password and must not be stored."""
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()


class LoginThrottle:
    """Counts failed sign-ins in a sliding window; refuses further attempts with 429."""

    def __init__(self, db: Database, security: SecuritySettings, clock: Clock = time.time) -> None:
        self._db = db
        self._window_s = security.login_window_minutes * 60
        self._per_account = security.login_max_failures
        self._per_client = security.login_max_failures_per_client
        self._clock = clock

    def check(self, username: str, client: str) -> None:
        """Raise LoginThrottled (with Retry-After) if the account or the client is locked."""
        now = self._clock()
        since = now - self._window_s
        with self._db.read() as conn:
            unlock = max(
                self._unlock_at(conn, "username", account_key(username), self._per_account, since),
                self._unlock_at(conn, "client", client, self._per_client, since),
            )
        if unlock > now:
            seconds = max(1, math.ceil(unlock - now))
            raise LoginThrottled(
                f"too many failed sign-ins; try again in {seconds} s",
                headers={"Retry-After": str(seconds)},
            )

    def _unlock_at(self, conn: Any, column: str, value: str, limit: int, since: float) -> float:
        # the lock lifts when enough failures have left the window to drop below the limit
        rows = conn.execute(
            f"SELECT at FROM login_failures WHERE {column} = ? AND at > ? ORDER BY at",
            (value, since),
        ).fetchall()
        if len(rows) < limit:
            return 0.0
        return float(rows[len(rows) - limit][0]) + self._window_s

    def record_failure(self, username: str, client: str) -> None:
        """Count one failed sign-in against the account and the client address."""
        now = self._clock()
        with self._db.write() as conn:
            # old rows are useless for the window; dropping them keeps the table small
            conn.execute("DELETE FROM login_failures WHERE at <= ?", (now - self._window_s,))
            conn.execute(
                "INSERT INTO login_failures (username, client, at) VALUES (?,?,?)",
                (account_key(username), client, now),
            )

    def clear_account(self, username: str) -> None:
        """After a successful sign-in the account starts afresh (the client count stays)."""
        with self._db.write() as conn:
            conn.execute("DELETE FROM login_failures WHERE username = ?", (account_key(username),))
