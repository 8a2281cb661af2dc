"""Opening IMAP and POP3 sessions safely, and turning network failures into `MailError`s.

Sessions always end with LOGOUT/QUIT (or a hard close when the server is gone), so no
socket outlives a poll. `network()` wraps only calls that talk to the server: an OSError
raised by the caller's sink must not be reported as "mail server unreachable".
"""

from __future__ import annotations

import imaplib
import logging
import poplib
import re
import socket
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from agents.ingest.sources.mail.config import MailboxConfig
from agents.ingest.sources.mail.errors import (
    MailAuthError,
    MailConfigError,
    MailError,
    MailProtocolError,
    MailTlsError,
    MailUnreachableError,
    scrub,
)

log = logging.getLogger(__name__)

# imapclient turns server replies into str(bytes): "b'[AUTHENTICATIONFAILED] ...'"
_BYTES_REPR = re.compile(r"\bb(['\"])(.*?)\1")


def tls_context(config: MailboxConfig) -> ssl.SSLContext:
    """A verifying TLS context; with `ca_file` it trusts exactly that CA bundle."""
    try:
        context = ssl.create_default_context(cafile=config.ca_file)
    except (OSError, ssl.SSLError) as error:
        raise MailConfigError(
            f"The CA file {config.ca_file!r} could not be read: {error.strerror or error}"
        ) from error
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if not config.verify_tls:
        # An explicit opt-out from the settings, repeated on every connection so it is seen.
        log.warning("TLS certificate verification is OFF for %s", config.describe())
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


@contextmanager
def network(config: MailboxConfig) -> Iterator[None]:
    """Translate socket, TLS and protocol errors raised inside into `MailError`s."""
    where = config.describe()
    try:
        yield
    except MailError:
        raise
    except ssl.SSLCertVerificationError as error:
        raise MailTlsError(
            f"The certificate of {where} could not be verified ({error.verify_message}). "
            "If the server uses a private or self-signed certificate, set its CA file."
        ) from error
    except ssl.SSLError as error:
        raise MailTlsError(f"TLS with {where} failed: {error.reason or error}.") from error
    except ConnectionRefusedError as error:
        raise MailUnreachableError(
            f"{where} refused the connection; check the host name and port."
        ) from error
    except socket.gaierror as error:
        raise MailUnreachableError(f"The host name of {where} could not be resolved.") from error
    except TimeoutError as error:
        raise MailUnreachableError(
            f"{where} did not answer within {config.timeout:g} seconds."
        ) from error
    except (imaplib.IMAP4.error, poplib.error_proto) as error:
        raise MailProtocolError(
            f"{where} answered unexpectedly: {scrub(_text(error), config.password)}"
        ) from error
    except OSError as error:
        raise MailUnreachableError(
            f"The connection to {where} failed: {error.strerror or error}."
        ) from error


@contextmanager
def imap_session(config: MailboxConfig) -> Iterator[IMAPClient]:
    """A logged-in IMAP client (implicit TLS, STARTTLS or, on localhost, plain)."""
    context = tls_context(config)
    with network(config):
        client = IMAPClient(
            config.host,
            config.effective_port,
            ssl=config.security == "tls",
            ssl_context=context,
            timeout=config.timeout,
        )
    try:
        with network(config):
            if config.security == "starttls":
                try:
                    client.starttls(context)
                except imaplib.IMAP4.error as error:
                    raise MailTlsError(
                        f"{config.describe()} does not offer STARTTLS: {_text(error)}"
                    ) from error
            try:
                client.login(config.username, config.password)
            except LoginError as error:
                raise MailAuthError(_auth_message(config, error)) from error
        yield client
    finally:
        try:
            client.logout()
        except Exception:  # noqa: BLE001 - the connection is already broken: just close it
            _quietly(client.shutdown)


@contextmanager
def pop3_session(config: MailboxConfig) -> Iterator[poplib.POP3]:
    """A logged-in POP3 session. Leaving it sends QUIT, which commits DELEs."""
    context = tls_context(config)
    pop: poplib.POP3
    with network(config):
        if config.security == "tls":
            pop = poplib.POP3_SSL(
                config.host, config.effective_port, timeout=config.timeout, context=context
            )
        else:
            pop = poplib.POP3(config.host, config.effective_port, timeout=config.timeout)
    try:
        with network(config):
            if config.security == "starttls":
                try:
                    pop.stls(context)
                except poplib.error_proto as error:
                    raise MailTlsError(
                        f"{config.describe()} does not offer STLS: {_text(error)}"
                    ) from error
            try:
                pop.user(config.username)
                pop.pass_(config.password)
            except poplib.error_proto as error:
                raise MailAuthError(_auth_message(config, error)) from error
        yield pop
    finally:
        if pop.sock is not None:
            try:
                pop.quit()
            except Exception:  # noqa: BLE001 - the connection is already broken: just close it
                _quietly(pop.close)


def _auth_message(config: MailboxConfig, error: Exception) -> str:
    detail = scrub(_text(error), config.password)
    return f"{config.describe()} rejected the user name or password ({detail})."


def _text(error: Exception) -> str:
    """The server's words from a library error, without Python's b'...' wrapping."""
    parts = [a.decode(errors="replace") if isinstance(a, bytes) else str(a) for a in error.args]
    text = _BYTES_REPR.sub(r"\2", " ".join(" ".join(parts).split()))
    return text[:300] or type(error).__name__


def _quietly(close: Callable[[], object]) -> None:
    try:
        close()
    except Exception:  # noqa: BLE001, S110 - best effort while already handling a failure
        pass
