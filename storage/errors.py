"""The appliance's one error base, `describe`, and the storage package's errors.

Every package's errors derive from `ApplianceError`: an HTTP `status_code`, a stable
machine `code`, a public `message` in plain words, and a private `detail` for the log
only. Every renderer (HTTP handler, CLI, UI notices, download routes) shows what
`describe` returns, so a private detail never reaches a user. It lives here because
storage is the bottom layer: every other package may import it.
"""

import errno
from dataclasses import dataclass

INTERNAL_MESSAGE = "internal error; see the server log"


class ApplianceError(Exception):
    """Base of every error the appliance raises on purpose."""

    status_code: int = 500
    code: str = "error"
    default_message: str = "the operation failed"

    def __init__(self, message: str | None = None, *, detail: str = "") -> None:
        super().__init__(message or self.default_message)
        #: technical detail for logs (library exception type, paths); never shown to users
        self.detail = detail

    @property
    def message(self) -> str:
        """The plain-words reason, the same text as `str(error)`."""
        return str(self.args[0]) if self.args else self.default_message


@dataclass(frozen=True)
class Described:
    """What a user may see of an error."""

    status_code: int
    code: str
    message: str

    @property
    def internal(self) -> bool:
        return self.code == "internal_error"


def describe(exc: BaseException) -> Described:
    """The status, code and public message of any exception. Unknown exceptions (bugs,
    library errors) become the generic internal error: their text may hold anything."""
    if isinstance(exc, ApplianceError):
        return Described(int(exc.status_code), str(exc.code), exc.message)
    return Described(500, "internal_error", INTERNAL_MESSAGE)


class StorageError(ApplianceError):
    """Base of every storage failure."""

    status_code = 500
    code = "storage_error"


class WrongKeyError(StorageError):
    """A database or wrapped key could not be opened with the key given."""

    code = "wrong_key"


class MasterKeyMissingError(StorageError):
    """Neither a key file nor a passphrase is available."""

    code = "master_key_missing"


class DatabaseTooNewError(StorageError):
    """The database was written by a newer version of the appliance."""

    code = "database_too_new"


class CorruptDatabaseError(StorageError):
    """Pages failed their authentication check or the file is damaged."""

    code = "corrupt_database"


class QueryTimeoutError(StorageError):
    """A query ran past the configured time limit and was interrupted."""

    status_code = 503
    code = "query_timeout"


class NotFoundError(StorageError):
    """A row, tenant or blob that was asked for does not exist."""

    status_code = 404
    code = "not_found"


class ConflictError(StorageError):
    """A unique name is already taken."""

    status_code = 409
    code = "conflict"


class InsufficientStorageError(StorageError):
    """The disk is full: nothing was stored; the same request succeeds once space is freed."""

    status_code = 507
    code = "insufficient_storage"
    default_message = "the appliance's disk is full; free space or ask an administrator"


def full_disk(exc: BaseException) -> bool:
    """True for the errors a full disk raises (ENOSPC, EDQUOT, SQLITE_FULL)."""
    if isinstance(exc, InsufficientStorageError):
        return True
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return "database or disk is full" in str(exc).lower()


class DiskIOError(StorageError):
    """The disk failed a read or write (EIO, SQLITE_IOERR): nothing was stored; retried later."""

    status_code = 503
    code = "disk_io_error"
    default_message = "the appliance's disk reported an input/output error; try again later"


class DatabaseBusyError(StorageError):
    """A database stayed locked by another writer beyond the busy timeout."""

    status_code = 503
    code = "database_busy"
    default_message = "the appliance is busy; try again in a moment"


def disk_io_failure(exc: BaseException) -> bool:
    """True for EIO from the OS or SQLite's 'disk I/O error' (SQLITE_IOERR)."""
    if isinstance(exc, DiskIOError):
        return True
    if isinstance(exc, OSError) and exc.errno == errno.EIO:
        return True
    return "disk i/o error" in str(exc).lower()


# What `transient_fault` calls temporary: the machine, not the input, was at fault.
# An embeddings server that does not answer (agents/analyze/remote_embedding.py) is the
# machine's fault too: its documents wait for it instead of failing.
TRANSIENT_CODES = frozenset(
    {
        "insufficient_storage",
        "disk_io_error",
        "database_busy",
        "query_timeout",
        "parser_killed",
        "embedding_unavailable",
    }
)


def transient_fault(exc: BaseException) -> bool:
    """True when `exc` is a fault of the machine that passes by itself (a full disk, an
    I/O error, a database locked past its timeout, a parser the kernel killed), so the
    work must be retried later rather than marked failed."""
    if full_disk(exc) or disk_io_failure(exc):
        return True
    if isinstance(exc, ApplianceError):
        return exc.code in TRANSIENT_CODES
    message = str(exc).lower()
    return "database is locked" in message or "database is busy" in message


class DataDirError(StorageError):
    """The data directory is missing, not initialised or not writable."""

    code = "data_dir"
