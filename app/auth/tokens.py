"""Short-lived JWT access tokens: HS256 only, with the user's token version in `tv`.

Bumping a user's token_version (logout, password change) invalidates every access token
issued before it, without keeping a deny-list.
"""

import threading
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
# verified tokens remembered, so a client's next requests skip PyJWT's parsing and HMAC
_VERIFIED_CACHE_SIZE = 4096
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
        # exact token text -> (claims, exp); only genuine tokens get in, and the expiry is
        # checked on every hit, so a hit is as good as verifying again. Revocation is the
        # token version, which the authenticator checks against the database each time.
        self._verified: dict[str, tuple[AccessClaims, int]] = {}
        self._verified_lock = threading.Lock()

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
        cached = self._verified.get(token)
        if cached is not None:
            claims, expires = cached
            # PyJWT's rule, with its clock: expired once now >= exp
            if time.time() >= expires:
                raise TokenExpired("access token expired; refresh it or sign in again")
            return claims
        try:
            # the algorithm list is pinned: `alg: none` or RS/HS confusion is rejected here
            decoded = jwt.decode(
                token, self._key, algorithms=[ALGORITHM], options={"require": _REQUIRED}
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenExpired("access token expired; refresh it or sign in again") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken() from exc
        if decoded["typ"] != TOKEN_TYPE or not isinstance(decoded["tv"], int):
            raise InvalidToken()
        claims = AccessClaims(str(decoded["sub"]), decoded["tv"], str(decoded["jti"]))
        self._remember(token, claims, int(decoded["exp"]))
        return claims

    def _remember(self, token: str, claims: AccessClaims, expires: int) -> None:
        with self._verified_lock:
            if len(self._verified) >= _VERIFIED_CACHE_SIZE:
                # dicts keep insertion order: drop the oldest entry
                self._verified.pop(next(iter(self._verified)))
            self._verified[token] = (claims, expires)
