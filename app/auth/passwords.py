"""argon2id password hashing with parameters from settings, and the password policy."""

import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from app.errors import AppError
from app.settings import SecuritySettings


class WeakPasswordError(AppError):
    status_code = 422
    code = "weak_password"


class Passwords:
    """Hashes, verifies and checks passwords; one instance per process."""

    def __init__(self, security: SecuritySettings) -> None:
        self._min_length = security.min_password_length
        self._hasher = PasswordHasher(
            time_cost=security.argon2_time_cost,
            memory_cost=security.argon2_memory_kib,
            parallelism=security.argon2_parallelism,
        )
        # verifying against this keeps a login for an unknown user as slow as a real one
        self._dummy_hash = self._hasher.hash("timing-equaliser-not-a-password")
        # how many argon2 verifications ran: lets tests prove throttled logins skip argon2
        self._verifications = 0
        self._count_lock = threading.Lock()

    @property
    def verifications(self) -> int:
        """Number of argon2 verifications run so far by this instance."""
        return self._verifications

    def check_policy(self, password: str) -> None:
        """Raise WeakPasswordError (422, clear message) if the password is too short."""
        if len(password) < self._min_length:
            raise WeakPasswordError(f"password must be at least {self._min_length} characters long")

    def hash(self, password: str) -> str:
        """Hash a new password after checking the policy."""
        self.check_policy(password)
        return self._hasher.hash(password)

    def rehash(self, password: str) -> str:
        """Hash an already-accepted password with the current parameters (no policy check:
        a password set under an older policy must not lock its owner out)."""
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Constant-cost check; an absent hash still runs argon2 so timing reveals nothing."""
        with self._count_lock:
            self._verifications += 1
        try:
            return self._hasher.verify(password_hash or self._dummy_hash, password) and bool(
                password_hash
            )
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)
