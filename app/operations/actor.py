"""Who performs an operation, as the audit log records it."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """`username` is the account (or "cli"); `client` the caller's address, if any."""

    username: str
    client: str | None = None


CLI = Actor("cli")
