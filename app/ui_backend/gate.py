"""Session checks for every UI call: who is calling, may they use this tenant, from where.

The idle timeout must not be defeated by a dashboard that refreshes itself: `Sessions`
counts every validation as activity, so this gate remembers when the *user* last did
something (opened a page, clicked) and ends the session once that is longer ago than
`session_idle_minutes`, whatever the timers did meanwhile.
"""

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from app.auth.principal import Principal
from app.auth.sessions import Sessions
from app.auth.tenant_access import TenantAccess, resolve_access
from app.errors import Forbidden
from storage.records import UserRecord
from storage.system_store import SystemStore
from ui.backend import SessionExpired

_MAX_TRACKED = 2000


@dataclass
class _Seen:
    last_active: float
    client: str


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionGate:
    """Validates the cookie value on each call and applies the API's tenant rules."""

    def __init__(self, sessions: Sessions, system: SystemStore, idle_minutes: float) -> None:
        self._sessions = sessions
        self._system = system
        self._idle_s = idle_minutes * 60
        self._seen: OrderedDict[str, _Seen] = OrderedDict()
        self._lock = threading.Lock()

    def user(
        self, token: str | None, *, active: bool = True, client: str | None = None
    ) -> UserRecord:
        """The signed-in user; SessionExpired when the session is gone or idle too long.

        `active` calls are the user's own doings and restart the idle clock; passive ones
        (timers refreshing a page) only check it.
        """
        if not token:
            raise SessionExpired()
        key, now = _key(token), time.monotonic()
        with self._lock:
            seen = self._seen.get(key)
        if seen is not None and now - seen.last_active > self._idle_s:
            self._sessions.revoke(token)
            self.forget(token)
            raise SessionExpired()
        session = self._sessions.validate(token)
        user = self._system.get_user(session.user_id) if session else None
        if user is None or user.disabled:
            self.forget(token)
            raise SessionExpired()
        with self._lock:
            if seen is None:
                seen = _Seen(now, client or "unknown")
                self._seen[key] = seen
            if active:
                seen.last_active = now
            if client:
                seen.client = client
            self._seen.move_to_end(key)
            while len(self._seen) > _MAX_TRACKED:
                self._seen.popitem(last=False)
        return user

    def forget(self, token: str) -> None:
        with self._lock:
            self._seen.pop(_key(token), None)

    def client(self, token: str | None) -> str:
        """The address the session's pages were opened from (for the audit log)."""
        with self._lock:
            seen = self._seen.get(_key(token)) if token else None
        return seen.client if seen else "unknown"

    @staticmethod
    def principal(user: UserRecord) -> Principal:
        return Principal(user.id, user.username, user.is_admin, via="session")

    def access(
        self,
        token: str | None,
        tenant_id: str,
        needed: str,
        *,
        admin_ok: bool = False,
        active: bool = True,
    ) -> TenantAccess:
        """The same membership and role check the API's tenant guard makes."""
        user = self.user(token, active=active)
        return resolve_access(
            self._system,
            self.principal(user),
            tenant_id,
            needed,
            admin_ok=admin_ok,
            users_only=True,
        )

    def admin(self, token: str | None, *, active: bool = True) -> UserRecord:
        """The user, if they are an appliance admin; Forbidden otherwise."""
        user = self.user(token, active=active)
        if not user.is_admin:
            raise Forbidden("this needs an appliance admin")
        return user
