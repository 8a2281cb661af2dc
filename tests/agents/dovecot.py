"""A real Dovecot IMAP/POP3 server on 127.0.0.1 for the mailbox tests.

Each `DovecotServer` lives in its own temporary directory: its own dovecot.conf, a
throw-away CA and server certificate (made with `cryptography`), a passwd-file (one
account per test, see `mailbox()`), Maildir storage, and base/state/log paths, so it
never touches /etc/dovecot or a system Dovecot. The master and auth processes run as
the current user. Dovecot will not run login or mail processes as root, so when the
tests run as root those use `dovenull` and `nobody` (see `_accounts`).

Needs the Debian packages `dovecot-imapd` and `dovecot-pop3d` (they bring
`dovecot-core`). When /usr/sbin/dovecot is missing the fixture skips, except under
CI=true where a missing server is a broken test machine and the test fails.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from imapclient import IMAPClient

from agents.ingest.sources.mail import MailboxConfig
from tests.agents.tls_certificates import write_certificates

DOVECOT = "/usr/sbin/dovecot"
PASSWORD = "dovecot-test-secret-1"
ACCOUNTS = 100  # per server, i.e. per test module

_CONF = """\
protocols = imap pop3
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {login_user}
first_valid_uid = {uid}
first_valid_gid = {gid}
ssl = yes
ssl_cert = <{root}/server.pem
ssl_key = <{root}/server.key
ssl_min_protocol = TLSv1.2
# plain LOGIN on the non-TLS ports is needed by the "plain" and STARTTLS-less tests
disable_plaintext_auth = no
auth_mechanisms = plain login
# wrong-password tests should not wait for the brute-force delay, nor for the growing
# per-IP penalty (auth cannot open the mode-0 socket, so it switches the penalty off)
auth_failure_delay = 0
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
mail_location = maildir:{root}/mail/%u
mail_uid = {uid}
mail_gid = {gid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = {pop3s}
    ssl = yes
  }}
}}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _unprivileged(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return pwd.getpwnam("nobody")


def _accounts() -> tuple[str, str, pwd.struct_passwd]:
    """(internal user name, login user name, mail account) for this run.

    Dovecot refuses to run its network-facing login processes, and mail processes, as
    root. Run by root, internal processes use the Debian package's `dovecot` user,
    logins its `dovenull` user and mail access `nobody`; run by anyone else, everything
    is that user. (Internal processes must not be root either, or the mode-0 socket
    that switches off the brute-force penalty would not stop them.)
    """
    me = pwd.getpwuid(os.getuid())
    if me.pw_uid != 0:
        return me.pw_name, me.pw_name, me
    return (
        _unprivileged("dovecot").pw_name,
        _unprivileged("dovenull").pw_name,
        _unprivileged("nobody"),
    )


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class DovecotServer:
    """One running Dovecot; `stop()` ends it. Ports: imap, imaps, pop3, pop3s.

    Starting and stopping Dovecot costs about a second, so a test module shares one
    server and every test gets a fresh account from `mailbox()`: an empty Maildir and a
    new UIDVALIDITY, no state shared between tests.
    """

    def __init__(self) -> None:
        # Not under pytest's tmp_path: that tree is 0700, and the unprivileged mail user
        # must be able to reach its Maildir.
        self.root = Path(tempfile.mkdtemp(prefix="appliance-dovecot-"))
        self.root.chmod(0o755)
        root = self.root
        self.imap, self.imaps, self.pop3, self.pop3s = (_free_port() for _ in range(4))
        for name in ("run", "state", "mail"):
            (root / name).mkdir()
        self.ca_file = write_certificates(root)
        # Dovecot re-reads a changed passwd-file at most once a second, so every account
        # a module may need is written up front and `mailbox()` hands them out.
        (root / "passwd").write_text(
            "".join(f"user{n}:{{PLAIN}}{PASSWORD}::::::\n" for n in range(1, ACCOUNTS + 1))
        )
        self._accounts = 0
        internal_user, login_user, mail = _accounts()
        self._mail_ids = (mail.pw_uid, mail.pw_gid)
        self.conf = root / "dovecot.conf"
        self.conf.write_text(
            _CONF.format(
                root=root,
                uid=mail.pw_uid,
                gid=mail.pw_gid,
                user=internal_user,
                group=grp.getgrgid(pwd.getpwnam(internal_user).pw_gid).gr_name,
                login_user=login_user,
                imap=self.imap,
                imaps=self.imaps,
                pop3=self.pop3,
                pop3s=self.pop3s,
            )
        )
        self.own(root / "mail")
        self._log = (root / "stdout.log").open("wb")
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.conf)], stdout=self._log, stderr=subprocess.STDOUT
        )
        self.wait_ready()

    def mailbox(self) -> Mailbox:
        """The next unused account: an empty Maildir, nothing shared with other tests."""
        self._accounts += 1
        assert self._accounts <= ACCOUNTS, "raise ACCOUNTS in tests/agents/dovecot.py"
        return Mailbox(self, f"user{self._accounts}")

    def own(self, path: Path) -> None:
        """Hand a path to the mail user (only needed when the tests run as root)."""
        if os.getuid() == 0:
            os.chown(path, *self._mail_ids)

    def wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        ports = [self.imap, self.imaps, self.pop3, self.pop3s]
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise AssertionError(f"dovecot exited early:\n{self.log_text()}")
            if all(_port_open(port) for port in ports):
                return
            time.sleep(0.05)
        self.stop()
        raise AssertionError(f"dovecot did not open its ports in {timeout}s:\n{self.log_text()}")

    def log_text(self) -> str:
        parts = []
        for name in ("stdout.log", "dovecot.log"):
            path = self.root / name
            if path.exists():
                parts.append(path.read_text(errors="replace"))
        return "\n".join(parts)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()
        shutil.rmtree(self.root, ignore_errors=True)


class Mailbox:
    """One account on a `DovecotServer`: delivery, connector configs, an inspecting client."""

    def __init__(self, server: DovecotServer, user: str) -> None:
        self.server = server
        self.user = user
        self.password = PASSWORD
        self.ca_file = server.ca_file
        self.maildir = server.root / "mail" / user
        self.folder_dir("INBOX")

    def config(
        self, protocol: str = "imap", security: str = "tls", **overrides: Any
    ) -> MailboxConfig:
        """A connector config for this account, trusting the test CA; `overrides` win."""
        server = self.server
        ports = {
            ("imap", True): server.imaps,
            ("imap", False): server.imap,
            ("pop3", True): server.pop3s,
            ("pop3", False): server.pop3,
        }
        values: dict[str, Any] = {
            "protocol": protocol,
            "host": "127.0.0.1",
            "security": security,
            "port": ports[(protocol, security == "tls")],
            "username": self.user,
            "password": self.password,
            "ca_file": str(self.ca_file),
            "timeout": 10.0,
        }
        values.update(overrides)
        return MailboxConfig(**values)

    # -- mail delivery, straight into Maildir (fast: no SMTP/LDA round trips) --

    def folder_dir(self, folder: str) -> Path:
        """The Maildir++ directory of `folder`, created if missing."""
        path = self.maildir if folder == "INBOX" else self.maildir / f".{folder}"
        for directory in (self.maildir, path, path / "cur", path / "new", path / "tmp"):
            if not directory.exists():
                directory.mkdir()
                self.server.own(directory)
        return path

    def deliver(self, raw: bytes, folder: str = "INBOX", received: float | None = None) -> None:
        """Drop one message into the folder's `new/`, as an MDA would (tmp/ then rename).

        `received` (a Unix time) becomes its IMAP internal date, which SINCE searches;
        Dovecot takes it from the file's modification time.
        """
        directory = self.folder_dir(folder)
        name = f"{time.time():.6f}.{uuid.uuid4().hex}.appliance-test"
        tmp = directory / "tmp" / name
        tmp.write_bytes(raw)
        if received is not None:
            os.utime(tmp, (received, received))
        self.server.own(tmp)
        tmp.rename(directory / "new" / name)

    @contextmanager
    def client(self) -> Iterator[IMAPClient]:
        """A logged-in IMAP client on the plain port, for inspecting server state."""
        client = IMAPClient("127.0.0.1", self.server.imap, ssl=False, timeout=10)
        try:
            client.login(self.user, self.password)
            yield client
        finally:
            try:
                client.logout()
            except Exception:  # noqa: BLE001 - the connection may already be gone
                client.shutdown()


def require_dovecot() -> None:
    """Skip (or fail under CI=true) when the Dovecot binary is not installed."""
    if shutil.which(DOVECOT) or os.path.exists(DOVECOT):
        return
    reason = f"{DOVECOT} not found: install the Debian packages dovecot-imapd and dovecot-pop3d"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def running_dovecot() -> Iterator[DovecotServer]:
    """Body of a (module-scoped) fixture: a Dovecot for the module, stopped afterwards.

    Used as `yield from running_dovecot()` so each test module names its own fixture
    (importing a fixture function into a test module trips the linters).
    """
    require_dovecot()
    server = DovecotServer()
    try:
        yield server
    finally:
        server.stop()


def fresh_mailbox(server: DovecotServer) -> Iterator[Mailbox]:
    """Body of a per-test fixture: a new account; the server log is printed afterwards,
    which pytest shows only when the test failed."""
    start = len(server.log_text())
    yield server.mailbox()
    print(server.log_text()[start:][-4000:])
