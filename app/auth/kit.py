"""The auth services of one process, built once by the runtime (`app.runtime`)."""

import time
from collections.abc import Callable
from dataclasses import dataclass

from app.auth.accounts import Accounts
from app.auth.api_keys import ApiKeys
from app.auth.authenticator import Authenticator
from app.auth.logins import Logins
from app.auth.passwords import Passwords
from app.auth.refresh_tokens import RefreshTokens
from app.auth.sessions import Sessions
from app.auth.signing_key import load_or_create_signing_key
from app.auth.throttle import LoginThrottle
from app.auth.tokens import AccessTokens
from app.services import Services


@dataclass(frozen=True)
class AuthKit:
    passwords: Passwords
    accounts: Accounts
    sessions: Sessions
    throttle: LoginThrottle
    access_tokens: AccessTokens
    refresh_tokens: RefreshTokens
    api_keys: ApiKeys
    authenticator: Authenticator
    logins: Logins


def build_auth_kit(services: Services, clock: Callable[[], float] = time.time) -> AuthKit:
    """A new kit. `clock` drives the throttle window, refresh
    token and API key expiry (JWTs use real time: PyJWT checks exp/iat against it)."""
    security = services.settings.security
    system_db = services.system_db
    passwords = Passwords(security)
    accounts = Accounts(services.system, passwords)
    sessions = Sessions(system_db, security)
    throttle = LoginThrottle(system_db, security, clock)
    access = AccessTokens(
        load_or_create_signing_key(system_db, services.master), security.access_token_minutes * 60
    )
    refresh = RefreshTokens(system_db, security.refresh_token_days * 86400, clock)
    keys = ApiKeys(system_db, clock)
    return AuthKit(
        passwords=passwords,
        accounts=accounts,
        sessions=sessions,
        throttle=throttle,
        access_tokens=access,
        refresh_tokens=refresh,
        api_keys=keys,
        authenticator=Authenticator(services.system, access, keys, sessions),
        logins=Logins(services.system, accounts, throttle, access, refresh, sessions),
    )
