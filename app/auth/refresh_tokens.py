"""Opaque refresh tokens: stored as SHA-256 hashes, rotated on every use, in families.

Each sign-in starts a family. Refreshing marks the presented token used and issues its
successor in the same family. A used (or revoked) token presented again means someone
holds a copy: the whole family is revoked, so the thief's and the owner's chains both die.
"""

import hashlib
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from app.auth.tokens import InvalidToken
from storage.database import Database


def token_hash(token: str) -> str:
    # the tokens are 256-bit random, so a fast hash is enough (no guessing to slow down)
    return hashlib.sha256(token.encode()).hexdigest()


class RefreshReplayed(InvalidToken):
    code = "refresh_token_reused"

    def __init__(self, user_id: str) -> None:
        super().__init__("refresh token was already used; all tokens of this sign-in are revoked")
        self.user_id = user_id


@dataclass(frozen=True)
class Rotation:
    user_id: str
    family_id: str
    token: str


class RefreshTokens:
    """Issue, rotate and revoke refresh tokens kept in system.db."""

    def __init__(
        self, db: Database, lifetime_s: int, clock: Callable[[], float] = time.time
    ) -> None:
        self._db = db
        self._lifetime_s = lifetime_s
        self._clock = clock

    def issue(self, user_id: str, family_id: str | None = None) -> str:
        """A new token (a new family unless `family_id` is given)."""
        token = secrets.token_urlsafe(32)
        now = self._clock()
        family = family_id or uuid.uuid4().hex
        with self._db.write() as writer:
            writer.execute(
                "INSERT INTO refresh_tokens "
                "(token_hash, family_id, user_id, issued_at, expires_at) VALUES (?,?,?,?,?)",
                (token_hash(token), family, user_id, now, now + self._lifetime_s),
            )
        return token

    def rotate(self, token: str) -> Rotation:
        """Exchange a live token for its successor; replay revokes the family (then raises)."""
        now = self._clock()
        replayed_by = None
        with self._db.write() as conn:
            row = conn.execute(
                "SELECT family_id, user_id, expires_at, used_at, revoked_at FROM refresh_tokens "
                "WHERE token_hash = ?",
                (token_hash(token),),
            ).fetchone()
            if row is None:
                raise InvalidToken("unknown refresh token")
            family_id, user_id, expires_at, used_at, revoked_at = row
            if used_at is not None or revoked_at is not None:
                conn.execute(
                    "UPDATE refresh_tokens SET revoked_at = ? "
                    "WHERE family_id = ? AND revoked_at IS NULL",
                    (now, family_id),
                )
                replayed_by = user_id
            elif expires_at <= now:
                raise InvalidToken("refresh token expired; sign in again")
            else:
                conn.execute(
                    "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ?",
                    (now, token_hash(token)),
                )
                successor = self.issue(user_id, family_id)
        if replayed_by is not None:
            # raised after the transaction commits, so the family stays revoked
            raise RefreshReplayed(replayed_by)
        return Rotation(user_id, family_id, successor)

    def revoke_user(self, user_id: str) -> None:
        """Revoke every refresh token of the user (logout, password change)."""
        with self._db.write() as conn:
            conn.execute(
                "UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                (self._clock(), user_id),
            )
            # spent tokens serve only replay detection; after their lifetime they can go
            conn.execute("DELETE FROM refresh_tokens WHERE expires_at < ?", (self._clock(),))
