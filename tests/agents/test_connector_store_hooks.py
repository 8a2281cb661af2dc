"""Hook deliveries: signature and token checks, and JSON records rendered as documents."""

import json

import pytest

from agents.ingest.sources.hooks import (
    MAX_METADATA_KEYS,
    MAX_METADATA_VALUE,
    HookAuthError,
    HookCredentials,
    HookPayloadError,
    flatten,
    record_metadata,
    records_of,
    render,
    sign,
    verify,
)

SECRETS = {"secret": "s" * 32, "token": "t" * 32}
BODY = b'{"id": 7}'
NOW = 1_900_000_000


def credentials(body: bytes = BODY, at: int = NOW, secret: str = "s" * 32) -> HookCredentials:
    return HookCredentials(signature=sign(secret, at, body), timestamp=str(at))


def test_a_fresh_signature_passes_with_a_fingerprint_of_timestamp_and_body() -> None:
    # WHEN a delivery signed now is checked
    verified = verify(credentials(), SECRETS, BODY, now=NOW + 10, tolerance_s=300)
    # THEN it passes by HMAC, and the same body at another time has another fingerprint
    assert verified.method == "hmac" and verified.fingerprint
    other = verify(credentials(at=NOW + 1), SECRETS, BODY, now=NOW, tolerance_s=300)
    assert other.fingerprint != verified.fingerprint
    # AND upper-case hex is accepted like lower-case
    upper = HookCredentials(credentials().signature.upper().replace("SHA256=", "sha256="), str(NOW))
    assert verify(upper, SECRETS, BODY, now=NOW, tolerance_s=300).method == "hmac"


@pytest.mark.parametrize(
    ("given", "body", "secrets", "reason"),
    [
        (credentials(secret="x" * 32), BODY, SECRETS, "does not match"),
        (credentials(), b'{"id": 8}', SECRETS, "does not match"),
        (credentials(at=NOW - 301), BODY, SECRETS, "more than 300 seconds"),
        (credentials(at=NOW + 301), BODY, SECRETS, "more than 300 seconds"),
        (HookCredentials(signature=sign("s" * 32, NOW, BODY)), BODY, SECRETS, "Timestamp"),
        (credentials(), BODY, {"token": "t" * 32}, "does not take signatures"),
        (HookCredentials(token="t" * 31), BODY, SECRETS, "token is not valid"),
        (HookCredentials(token="t" * 32), BODY, {"secret": "s" * 32}, "token is not valid"),
        (HookCredentials(), BODY, SECRETS, "Send X-Appliance-Signature"),
    ],
)
def test_bad_deliveries_are_refused_with_a_reason(
    given: HookCredentials, body: bytes, secrets: dict[str, str], reason: str
) -> None:
    # WHEN a delivery fails; THEN HookAuthError (401) says why, without any secret
    with pytest.raises(HookAuthError, match=reason) as caught:
        verify(given, secrets, body, now=NOW, tolerance_s=300)
    assert caught.value.status_code == 401
    assert "s" * 32 not in caught.value.message and "t" * 32 not in caught.value.message


def test_the_token_passes_in_constant_time_comparison() -> None:
    verified = verify(HookCredentials(token="t" * 32), SECRETS, BODY, now=NOW, tolerance_s=1)
    assert verified.method == "token" and verified.fingerprint is None


def test_records_are_an_object_or_an_array_of_objects() -> None:
    assert records_of(b'{"a": 1}') == [{"a": 1}]
    assert records_of(b'[{"a": 1}, {"b": 2}]') == [{"a": 1}, {"b": 2}]
    deep = b"[" * 100_000 + b"]" * 100_000
    for bad in (
        b"",
        b"{",
        b"[1]",
        b"null",
        b"[]",
        b'{"a": Infinity}',
        deep,
        json.dumps([{}] * 1001).encode(),
    ):
        with pytest.raises(HookPayloadError):
            records_of(bad)


def test_a_record_renders_as_indented_key_value_text() -> None:
    record = {
        "name": "Ada",
        "address": {"city": "Delft", "zip": None},
        "tags": ["a", "b"],
        "items": [{"sku": 1}, [2, 3]],
        "empty": {},
        "ok": False,
    }
    assert render(record) == (
        "name: Ada\n"
        "address:\n  city: Delft\n  zip: null\n"
        "tags:\n  - a\n  - b\n"
        "items:\n  -\n    sku: 1\n  -\n    - 2\n    - 3\n"
        "empty: {}\n"
        "ok: false\n"
    )


def test_fields_are_flattened_and_capped_as_metadata() -> None:
    record = {
        "customer": {"name": "Ada", "ids": [1, 2]},
        "lines": [{"sku": "P"}],
        "long": "x" * 5000,
        "hook": "spoofed",
        "big": 10**30,
        **{f"k{n}": n for n in range(300)},
    }
    fields = flatten(record)
    assert fields["customer.name"] == "Ada" and fields["customer.ids"] == [1, 2]
    assert fields["lines.0.sku"] == "P"
    assert len(fields["long"]) == MAX_METADATA_VALUE
    assert fields["big"] == str(10**30)
    assert len(fields) == MAX_METADATA_KEYS
    # AND a field named like one the appliance sets cannot overwrite it
    metadata = record_metadata(
        record,
        hook_id="h1",
        hook_name="crm",
        index=0,
        received_at="2024-01-01T00:00:00+00:00",
        title_field="customer.name",
    )
    assert metadata["hook"] == "crm" and metadata["record.hook"] == "spoofed"
    assert metadata["title"] == "Ada"
