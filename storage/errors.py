"""Errors raised by the storage package; each carries an HTTP status and a stable code."""


class StorageError(Exception):
    """Base of every storage failure."""

    status_code = 500
    code = "storage_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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


class DataDirError(StorageError):
    """The data directory is missing, not initialised or not writable."""

    code = "data_dir"
