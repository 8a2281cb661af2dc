"""What one mailbox connector is: server, account, which mails to take and what to do after."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from agents.ingest.sources.mail.errors import MailConfigError

ProtocolName = Literal["imap", "pop3"]
Security = Literal["tls", "starttls", "plain"]
Take = Literal["attachments", "body", "both"]
AfterSuccess = Literal["mark_seen", "move", "delete", "none"]
OnFailure = Literal["leave", "record"]
Criterion = str | int | dt.date | dt.datetime

_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_DEFAULT_PORTS = {
    ("imap", True): 993,
    ("imap", False): 143,
    ("pop3", True): 995,
    ("pop3", False): 110,
}
_CHOICES: dict[str, tuple[str, ...]] = {
    "protocol": ("imap", "pop3"),
    "security": ("tls", "starttls", "plain"),
    "take": ("attachments", "body", "both"),
    "after_success": ("mark_seen", "move", "delete", "none"),
    "on_failure": ("leave", "record"),
}
MIB = 1024 * 1024


@dataclass(frozen=True)
class MailboxConfig:
    """Settings of one IMAP or POP3 connector.

    `port=None` means the protocol's standard port for the chosen security. `search` is
    IMAP search criteria as imapclient takes them, e.g. ("UNSEEN",) or
    ("SINCE", date(2024, 1, 1)). `after_success` (IMAP) and `delete_after_success`
    (POP3) run only for messages whose documents the sink reported durable.
    `on_failure="leave"` keeps a failed message untouched so the next poll retries it;
    `"record"` counts it as done (the sink recorded the failure) and never deletes it.
    `ca_file` trusts a private CA or self-signed certificate; `verify_tls=False` is an
    explicit, logged opt-out, never a fallback.
    """

    protocol: ProtocolName
    host: str
    username: str
    password: str = field(repr=False)
    port: int | None = None
    security: Security = "tls"
    folder: str = "INBOX"
    search: Sequence[Criterion] = ("UNSEEN",)
    take: Take = "attachments"
    after_success: AfterSuccess = "mark_seen"
    move_to: str | None = None
    delete_after_success: bool = False
    on_failure: OnFailure = "leave"
    batch_size: int = 100
    # Bounds memory per FETCH even when every mail in a batch carries a large attachment.
    max_batch_bytes: int = 50 * MIB
    # Larger mails are not downloaded; the sink gets headers only with problem="too_large".
    max_message_bytes: int = 100 * MIB
    timeout: float = 30.0
    ca_file: str | None = None
    verify_tls: bool = True

    def __post_init__(self) -> None:
        for name, allowed in _CHOICES.items():
            if getattr(self, name) not in allowed:
                raise MailConfigError(f"{name} must be one of {', '.join(allowed)}.")
        if not self.host.strip():
            raise MailConfigError("The mail server host name is empty.")
        if self.security == "plain" and self.host not in _LOCAL_HOSTS:
            raise MailConfigError(
                "Unencrypted mail connections are only allowed to this machine "
                "(127.0.0.1); use security 'tls' or 'starttls'."
            )
        if self.port is not None and not 0 < self.port < 65536:
            raise MailConfigError("The port must be between 1 and 65535.")
        if self.after_success == "move" and not self.move_to:
            raise MailConfigError("after_success 'move' needs a move_to folder.")
        if self.after_success == "move" and self.move_to == self.folder:
            raise MailConfigError("move_to must differ from the folder that is read.")
        if self.batch_size < 1 or self.max_batch_bytes < 1 or self.max_message_bytes < 1:
            raise MailConfigError("batch_size and the byte limits must be positive.")
        if self.timeout <= 0:
            raise MailConfigError("timeout must be positive.")
        # Accept a list or a single keyword from JSON settings; keep the frozen value a tuple.
        search = self.search
        if isinstance(search, str):
            search = (search,)
        object.__setattr__(self, "search", tuple(search) or ("ALL",))

    @property
    def effective_port(self) -> int:
        """The configured port, or the standard one for protocol and security."""
        if self.port is not None:
            return self.port
        return _DEFAULT_PORTS[(self.protocol, self.security == "tls")]

    def describe(self) -> str:
        """Where this connector points, for messages and logs (no credentials)."""
        return f"{self.protocol.upper()} {self.host}:{self.effective_port} ({self.security})"
