"""Server-side browser sessions: the cookie holds only a random id; its hash is stored.

Sign-in happens over the UI's websocket, which cannot set cookies, so a successful
sign-in yields a one-time ticket (30 s, in memory) that an HTTP route exchanges for a
fresh session cookie. A new session id is issued at every sign-in.
"""

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

from app.settings import SecuritySettings
from storage.database import Database

COOKIE_NAME = "appliance_session"
_TICKET_TTL_S = 30.0
_TOUCH_EVERY_S = 30.0


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    user_id: str
    csrf_token: str
    expires_at: float


class Sessions:
    """Create, validate and revoke browser sessions stored in system.db."""

    def __init__(self, system_db: Database, security: SecuritySettings) -> None:
        self._db = system_db
        self._idle_s = security.session_idle_minutes * 60
        self._absolute_s = security.session_absolute_hours * 3600
        self._tickets: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def issue_ticket(self, user_id: str) -> str:
        ticket = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            self._tickets = {k: v for k, v in self._tickets.items() if v[1] > now}
            self._tickets[_hash(ticket)] = (user_id, now + _TICKET_TTL_S)
        return ticket

    def redeem_ticket(self, ticket: str) -> str | None:
        """The user id the ticket was issued for, once; None if unknown or expired."""
        with self._lock:
            entry = self._tickets.pop(_hash(ticket), None)
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def create(self, user_id: str, client: str | None) -> tuple[str, Session]:
        token = secrets.token_urlsafe(32)
        now = time.time()
        session = Session(user_id, secrets.token_urlsafe(24), now + self._absolute_s)
        with self._db.write() as conn:
            conn.execute("DELETE FROM sessions WHERE expires_at < ?", (now,))
            conn.execute(
                "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, "
                "expires_at, client) VALUES (?,?,?,?,?,?,?)",
                (_hash(token), user_id, session.csrf_token, now, now, session.expires_at, client),
            )
        return token, session

    def validate(self, token: str | None) -> Session | None:
        """The live session for this cookie value, refreshing its idle timer."""
        if not token:
            return None
        key = _hash(token)
        now = time.time()
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT user_id, csrf_token, last_seen_at, expires_at FROM sessions "
                "WHERE id_hash = ?",
                (key,),
            ).fetchone()
        if row is None:
            return None
        user_id, csrf, last_seen, expires = row
        if expires < now or last_seen + self._idle_s < now:
            self.revoke(token)
            return None
        if now - last_seen > _TOUCH_EVERY_S:
            with self._db.write() as conn:
                conn.execute("UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?", (now, key))
        return Session(user_id, csrf, expires)

    def revoke(self, token: str) -> None:
        with self._db.write() as conn:
            conn.execute("DELETE FROM sessions WHERE id_hash = ?", (_hash(token),))

    def revoke_user(self, user_id: str) -> None:
        """Sign the user out everywhere."""
        with self._db.write() as conn:
            conn.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))
