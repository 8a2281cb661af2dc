"""Key lifetimes typed in words become the API's form."""

import pytest

from app.operations.expiry import InvalidExpiry, plain_expiry


@pytest.mark.parametrize(
    ("typed", "api_form"),
    [
        ("3 months", "90d"),
        ("90 days", "90d"),
        ("1 year", "365d"),
        ("2 weeks", "2w"),
        ("12 hours", "12h"),
        ("90d", "90d"),
        (" 1 Month ", "30d"),
        ("", None),
        ("never", None),
    ],
)
def test_plain_lifetimes_are_understood(typed: str, api_form: str | None) -> None:
    assert plain_expiry(typed) == api_form


@pytest.mark.parametrize("typed", ["soon", "0 days", "3 fortnights", "-1 d", "1e3 days"])
def test_what_is_not_understood_is_refused_with_examples(typed: str) -> None:
    with pytest.raises(InvalidExpiry, match="90 days, 3 months"):
        plain_expiry(typed)
