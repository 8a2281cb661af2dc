"""Why an LLM call failed, as an HTTP status, a stable machine code and plain words.

The API layer turns `status_code` into the response status and `code` into the
`code` field of the error body; the message is for people and never contains
document text or secrets.
"""

from storage.errors import ApplianceError


class LLMError(ApplianceError):
    """Base of every LLM failure; `code` is stable, the message is for people."""

    status_code = 500
    code = "llm_error"


class LLMRequestError(LLMError):
    """The caller asked for something malformed (no messages, no labels, bad limits)."""

    status_code = 400
    code = "invalid_llm_request"


class PromptTooLongError(LLMError):
    """The prompt alone does not fit the model's context window."""

    status_code = 413
    code = "prompt_too_long"


class InvalidSchemaError(LLMError):
    """The given document is not a valid JSON Schema at all."""

    status_code = 422
    code = "invalid_schema"


class UnsupportedSchemaError(LLMError):
    """A valid JSON Schema that the grammar cannot express; the message names the keyword."""

    status_code = 422
    code = "unsupported_schema"

    def __init__(self, message: str, *, keyword: str = "", path: str = "") -> None:
        super().__init__(message)
        self.keyword = keyword
        self.path = path


class SchemaUnsatisfiedError(LLMError):
    """The model's output still failed schema validation after every allowed attempt."""

    status_code = 422
    code = "schema_unsatisfied"


class LLMBusyError(LLMError):
    """The shared local model stayed busy longer than the caller may wait."""

    status_code = 503
    code = "llm_busy"


class LLMUnavailableError(LLMError):
    """The model could not be loaded, or the remote server kept failing after retries."""

    status_code = 503
    code = "llm_unavailable"


class LLMTimeoutError(LLMError):
    """The remote server did not answer in time."""

    status_code = 504
    code = "llm_timeout"


class LLMUpstreamError(LLMError):
    """The remote server refused the request (bad key, unknown model, malformed reply)."""

    status_code = 502
    code = "llm_upstream_error"
