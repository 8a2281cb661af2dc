"""Per-browser-session UI state kept in server memory: chosen tenant, theme, conversations.

Not NiceGUI's `app.storage.user`: that is written to JSON files in the working directory,
and a conversation quotes document text, which must never sit unencrypted on disk. The
state is keyed by a hash of the session cookie, so a new sign-in starts afresh, and it is
bounded (oldest sessions dropped first) so abandoned sessions cannot grow memory.
"""

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

MAX_SESSIONS = 500
MAX_TURNS = 50


@dataclass
class Turn:
    """One question and its answer in the Ask conversation."""

    question: str
    answer: str = ""
    citations: list[dict[str, Any]] = field(default_factory=list)
    no_answer: bool = False
    error: str | None = None


@dataclass
class SessionState:
    tenant_id: str | None = None
    dark: bool = False
    # per tenant, so switching tenants never shows another tenant's answers
    conversations: dict[str, list[Turn]] = field(default_factory=dict)

    def conversation(self, tenant_id: str) -> list[Turn]:
        return self.conversations.setdefault(tenant_id, [])

    def add_turn(self, tenant_id: str, turn: Turn) -> None:
        turns = self.conversation(tenant_id)
        turns.append(turn)
        del turns[:-MAX_TURNS]


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStates:
    """Thread-safe LRU of SessionState by session cookie."""

    def __init__(self, limit: int = MAX_SESSIONS) -> None:
        self._limit = limit
        self._states: OrderedDict[str, SessionState] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str) -> SessionState:
        key = _key(token)
        with self._lock:
            state = self._states.pop(key, None) or SessionState()
            self._states[key] = state
            while len(self._states) > self._limit:
                self._states.popitem(last=False)
            return state

    def forget(self, token: str) -> None:
        """Drop a session's state (at sign-out)."""
        with self._lock:
            self._states.pop(_key(token), None)


STATES = SessionStates()


def forget_session(token: str | None) -> None:
    """Called by the sign-out route so a conversation does not outlive its session."""
    if token:
        STATES.forget(token)
