"""Sending an e-mail over SMTP through the egress guard (plain, STARTTLS or implicit TLS).

The socket connects to the address the guard checked; TLS still verifies the
certificate against the configured host name. SMTP replies map onto the retry schedule:
4xx and broken connections are retried, 5xx (and a refused login) stop.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from typing import Any

from agents.act.egress import EgressPolicy
from agents.act.errors import ActError
from agents.act.schedule import Attempt

DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}


class GuardedSMTP(smtplib.SMTP):
    """smtplib.SMTP whose connection goes to an egress-checked address."""

    def __init__(
        self, policy: EgressPolicy, timeout: float, tls_context: ssl.SSLContext | None
    ) -> None:
        self._policy = policy
        self._implicit_tls = tls_context
        super().__init__(timeout=timeout)

    def connect(
        self, host: str = "localhost", port: int = 0, source_address: Any = None
    ) -> tuple[int, bytes]:
        # smtplib takes the TLS server name from the constructor's host; set it here
        self._host = host
        return super().connect(host, port, source_address)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = self._policy.connect(host, port, timeout)
        if self._implicit_tls is not None:
            return self._implicit_tls.wrap_socket(sock, server_hostname=host)
        return sock


def login(smtp: smtplib.SMTP, username: str, password: str) -> None:
    """Log in with one mechanism (PLAIN, else LOGIN, else smtplib's choice): smtplib's
    login tries the next mechanism after a refusal, which some servers answer by waiting."""
    smtp.ehlo_or_helo_if_needed()
    offered = smtp.esmtp_features.get("auth", "").upper().split()
    smtp.user, smtp.password = username, password
    for mechanism, method in (("PLAIN", smtp.auth_plain), ("LOGIN", smtp.auth_login)):
        if mechanism in offered:
            smtp.auth(mechanism, method)
            return
    smtp.login(username, password)


def tls_context(config: dict[str, Any]) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=config.get("ca_file") or None)
    if not config.get("verify_tls", True):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def send_mail(
    policy: EgressPolicy,
    config: dict[str, Any],
    password: str | None,
    mail: Any,
    recipients: list[str],
) -> Attempt:
    """One SMTP conversation: connect, (STARTTLS), (login), send."""
    security = config.get("security", "starttls")
    port = int(config.get("port") or DEFAULT_PORTS[security])
    context = tls_context(config) if security in ("starttls", "tls") else None
    implicit = context if security == "tls" else None
    try:
        with GuardedSMTP(policy, float(config.get("timeout") or 30), implicit) as smtp:
            smtp.connect(str(config["host"]), port)
            if security == "starttls":
                smtp.starttls(context=context)
            if config.get("username"):
                login(smtp, str(config["username"]), password or "")
            refused = smtp.send_message(mail, to_addrs=recipients)
    except ActError as error:
        return Attempt("dead", error=error.message, code=error.code)
    except smtplib.SMTPAuthenticationError as error:
        return Attempt("dead", error.smtp_code, "The mail server refused the login.")
    except smtplib.SMTPNotSupportedError:
        return Attempt("dead", error="The mail server does not offer STARTTLS or login.")
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        temporary = all(400 <= code < 500 for code in codes)
        return Attempt(
            "retry" if temporary else "dead",
            codes[0] if codes else None,
            f"The mail server refused all {len(codes)} recipients.",
        )
    except smtplib.SMTPResponseException as error:
        outcome = "retry" if 400 <= error.smtp_code < 500 else "dead"
        return Attempt(outcome, error.smtp_code, f"The mail server answered {error.smtp_code}.")
    except ssl.SSLCertVerificationError:
        return Attempt("dead", error="The mail server's TLS certificate is not trusted.")
    except (OSError, smtplib.SMTPException) as error:
        return Attempt("retry", error=f"Could not talk to the mail server: {type(error).__name__}.")
    if refused:
        return Attempt(
            "delivered", 250, f"{len(refused)} recipient(s) refused: {', '.join(refused)}"[:500]
        )
    return Attempt("delivered", 250)
