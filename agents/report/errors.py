"""Why a report could not be made, as an HTTP status, a stable code and plain words.

Messages name templates, fields and limits; they never contain document text.
"""

from storage.errors import ApplianceError


class ReportError(ApplianceError):
    """Base of every report failure; `code` is stable, the message is for people."""

    status_code = 500
    code = "report_error"
    default_message = "the report could not be made"


class InvalidTemplateError(ReportError):
    """A template is not well-formed (wrong keys, types, unknown section kind)."""

    status_code = 422
    code = "invalid_template"


class MissingFieldError(ReportError):
    """A template refers to a field or parameter the data does not have."""

    status_code = 422
    code = "missing_field"

    def __init__(self, field: str, where: str) -> None:
        super().__init__(f"the template refers to the missing field {field!r} ({where})")
        self.field = field


class InvalidReportRequest(ReportError):
    """The request itself is wrong: unknown format, bad parameters, bad data."""

    status_code = 422
    code = "invalid_report_request"


class TooLargeError(ReportError):
    """The data exceeds what this format may hold within the appliance's limits."""

    status_code = 413
    code = "too_large"


class UnknownTemplateError(ReportError):
    status_code = 404
    code = "unknown_template"


class ReportNotFoundError(ReportError):
    status_code = 404
    code = "not_found"


class ReportNotReadyError(ReportError):
    """The report has not (or not successfully) been generated yet."""

    status_code = 409
    code = "report_not_ready"


class TemplateConflictError(ReportError):
    status_code = 409
    code = "conflict"


class SourceUnavailableError(ReportError):
    """A data source needs a service this appliance was built without (no LLM, no runs)."""

    status_code = 503
    code = "source_unavailable"
