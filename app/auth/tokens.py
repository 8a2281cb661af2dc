"""Short-lived JWT access tokens: HS256 only, with the user's token version in `tv`.

Bumping a user's token_version (logout, password change) invalidates every access token
issued before it, without keeping a deny-list.
"""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import jwt

from app.errors import Unauthorized
from storage.records import UserRecord

ALGORITHM = "HS256"
TOKEN_TYPE = "access"  # noqa: S105 - a claim value, not a secret
_REQUIRED = ["sub", "tv", "exp", "iat", "jti", "typ"]
# a 401 that tells a client to sign in again (RFC 6750)
BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


class InvalidToken(Unauthorized):
    code = "invalid_token"

    def __init__(self, detail: str = "invalid or revoked credentials") -> None:
        super().__init__(detail, headers=BEARER_CHALLENGE)


class TokenExpired(InvalidToken):
    code = "token_expired"


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    token_version: int
    jti: str


class AccessTokens:
    """Issues and verifies access tokens with one signing key."""

    def __init__(self, key: bytes, lifetime_s: int, clock: Callable[[], float] = time.time) -> None:
        self._key = key
        self.lifetime_s = lifetime_s
        self._clock = clock

    def issue(self, user: UserRecord) -> str:
        now = int(self._clock())
        claims = {
            "sub": user.id,
            "tv": user.token_version,
            "iat": now,
            "exp": now + self.lifetime_s,
            "jti": uuid.uuid4().hex,
            "typ": TOKEN_TYPE,
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def verify(self, token: str) -> AccessClaims:
        """The claims of a genuine, unexpired access token; InvalidToken otherwise."""
        try:
            # the algorithm list is pinned: `alg: none` or RS/HS confusion is rejected here
            claims = jwt.decode(
                token, self._key, algorithms=[ALGORITHM], options={"require": _REQUIRED}
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenExpired("access token expired; refresh it or sign in again") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken() from exc
        if claims["typ"] != TOKEN_TYPE or not isinstance(claims["tv"], int):
            raise InvalidToken()
        return AccessClaims(str(claims["sub"]), claims["tv"], str(claims["jti"]))
