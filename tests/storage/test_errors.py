"""The one error base: public message, machine code and status; the private detail stays private."""

from storage.errors import INTERNAL_MESSAGE, ApplianceError, NotFoundError, describe

CANARY = "canary-private-detail-5f1e"


class _Failure(ApplianceError):
    status_code = 409
    code = "test_failure"


def test_describe_gives_the_public_message_and_never_the_private_detail() -> None:
    # GIVEN an appliance error with a private detail
    error = _Failure("the thing is busy", detail=CANARY)
    # WHEN it is described THEN status, code and message are public, the detail is not
    described = describe(error)
    assert (described.status_code, described.code, described.message) == (
        409,
        "test_failure",
        "the thing is busy",
    )
    assert CANARY not in repr(described)
    assert error.detail == CANARY


def test_any_other_exception_is_described_as_an_internal_error_without_its_text() -> None:
    described = describe(RuntimeError(CANARY))
    assert (described.status_code, described.code, described.message) == (
        500,
        "internal_error",
        INTERNAL_MESSAGE,
    )
    assert described.internal


def test_storage_errors_are_appliance_errors() -> None:
    assert describe(NotFoundError("no such blob")).status_code == 404
