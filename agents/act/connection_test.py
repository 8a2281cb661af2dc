"""The connector dialog's test button for outbound kinds: reach the server, send nothing.

smtp: connect (through the egress guard), STARTTLS / TLS, log in, QUIT. webhook, http,
crm: resolve and check the destination and open a TCP (and TLS) connection, without
sending a request, so testing never causes an effect at the receiver.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from agents.act.egress import EgressPolicy
from agents.act.errors import ActError
from agents.act.smtp_sender import DEFAULT_PORTS, GuardedSMTP, login, tls_context


@dataclass(frozen=True)
class TestResult:
    ok: bool
    message: str
    code: str | None = None


def _test_smtp(policy: EgressPolicy, config: dict[str, Any], password: str | None) -> TestResult:
    security = config.get("security", "starttls")
    port = int(config.get("port") or DEFAULT_PORTS[security])
    context = tls_context(config) if security in ("starttls", "tls") else None
    with GuardedSMTP(
        policy, float(config.get("timeout") or 30), context if security == "tls" else None
    ) as smtp:
        smtp.connect(str(config["host"]), port)
        if security == "starttls":
            smtp.starttls(context=context)
        if config.get("username"):
            login(smtp, str(config["username"]), password or "")
        smtp.noop()
    return TestResult(True, f"Connected to {config['host']}:{port} and logged in.")


def _test_http(policy: EgressPolicy, url: str, timeout: float) -> TestResult:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    sock = policy.connect(host, port, timeout)
    try:
        if parts.scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
    finally:
        sock.close()
    return TestResult(True, f"{host}:{port} is allowed and answers (no request was sent).")


def test_outbound(
    policy: EgressPolicy, kind: str, config: dict[str, Any], secrets: dict[str, str]
) -> TestResult:
    """Try to reach the connector's server; never raises."""
    try:
        if kind == "smtp":
            return _test_smtp(policy, config, secrets.get("password"))
        url = str(config.get("url") or config.get("base_url") or "")
        return _test_http(policy, url, float(config.get("timeout") or 10))
    except ActError as error:
        return TestResult(False, error.message, error.code)
    except smtplib.SMTPAuthenticationError:
        return TestResult(False, "The mail server refused the login.", "auth_failed")
    except smtplib.SMTPException as error:
        return TestResult(False, f"The mail server answered: {type(error).__name__}.", "smtp_error")
    except ssl.SSLError as error:
        return TestResult(False, f"TLS failed: {error.reason or 'handshake'}.", "tls_failed")
    except OSError as error:
        return TestResult(
            False, f"Could not connect: {error.strerror or type(error).__name__}.", "unreachable"
        )
