"""Why a document could not be parsed, as an HTTP status, a machine code and plain words.

Callers store `code` and `str(error)` on the failed document (or in a drop-box
`.reason.json`), and the API layer turns `status_code` into the response status.
"""

from storage.errors import ApplianceError


class IngestError(ApplianceError):
    """Base of every parse failure; `code` is stable, the message is for people."""

    status_code = 422
    code = "ingest_error"
    default_message = "The document could not be read."

    def __init__(self, message: str | None = None, detail: str = "") -> None:
        # `detail` is positional here (the parsers pass it so): technical, for logs only
        super().__init__(message, detail=detail)


class ParseTimeoutError(IngestError):
    code = "timeout"
    default_message = "Reading the document took too long and was stopped."


class TooLargeError(IngestError):
    status_code = 413
    code = "too_large"
    default_message = "The document is too large to process."


class MalformedError(IngestError):
    code = "malformed"
    default_message = "The file is damaged or is not what its contents claim to be."


class EncryptedPdfError(IngestError):
    code = "encrypted_pdf"
    default_message = "The PDF is protected by a password; save an unprotected copy and retry."


class UnsupportedFormatError(IngestError):
    status_code = 415
    code = "unsupported"
    default_message = "This type of file is not supported."


class EmptyDocumentError(IngestError):
    code = "empty"
    default_message = "The file is empty or contains no readable text."


class ForbiddenXmlError(IngestError):
    code = "forbidden_xml"
    default_message = (
        "The document contains XML declarations (DOCTYPE or ENTITY) that office files never "
        "need and that can be used for attacks; it was refused."
    )


class MemoryLimitError(IngestError):
    code = "memory_limit"
    default_message = "Reading the document needed more memory than allowed."


class ParserCrashedError(IngestError):
    # 422, not 500: a reader dying on one hostile file is a property of that file.
    code = "crashed"
    default_message = "The document reader stopped unexpectedly while reading this file."


class ParserKilledError(IngestError):
    """The reader was killed from outside (SIGKILL: the kernel's OOM killer on a starved
    machine, an administrator). A fault of the machine, not of the file: the document is
    parsed again later, never marked failed for it."""

    status_code = 503
    code = "parser_killed"
    default_message = "The document reader was stopped by the system; it will be retried."


ERROR_CLASSES: dict[str, type[IngestError]] = {
    cls.code: cls
    for cls in (
        ParseTimeoutError,
        TooLargeError,
        MalformedError,
        EncryptedPdfError,
        UnsupportedFormatError,
        EmptyDocumentError,
        ForbiddenXmlError,
        MemoryLimitError,
        ParserCrashedError,
        ParserKilledError,
    )
}


def error_from_code(code: str, message: str, detail: str = "") -> IngestError:
    """Rebuild an error that crossed a process boundary; unknown codes count as crashes."""
    return ERROR_CLASSES.get(code, ParserCrashedError)(message, detail)
