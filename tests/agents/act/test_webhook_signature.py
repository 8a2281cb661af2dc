"""Outbound webhooks carry Standard Webhooks headers; the HMAC is the one inbound hooks use."""

import base64
import hashlib
import hmac
import time
from collections.abc import Callable

from agents.act import outbox
from agents.ingest.sources import hooks
from agents.signatures import new_webhook_secret, verify_standard
from tests.agents.act.conftest import Actions
from tests.agents.act.receivers import Receiver


def test_a_signed_webhook_verifies_with_the_standard_scheme(
    actions: Actions, receiver_factory: Callable[..., Receiver]
) -> None:
    # GIVEN a webhook connector with a whsec_ secret
    receiver = receiver_factory()
    secret = new_webhook_secret()
    actions.connectors.create(
        "webhook", "erp", {"url": f"{receiver.url}/events"}, {"secret": secret}
    )

    # WHEN a step sends a body through it
    result = actions.complete("webhook", {"connector": "erp", "json": {"invoice": 7}})
    actions.deliver_queued()

    # THEN the receiver saw webhook-id = the message id, and the signature is
    # base64(HMAC-SHA256(key, id.timestamp.body)) with the key from the secret
    seen = receiver.seen[0]
    message_id = result.output["message_id"]
    assert seen.headers["webhook-id"] == message_id == "run1:webhook"
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{seen.headers['webhook-timestamp']}.".encode() + seen.body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert seen.headers["webhook-signature"] == expected
    assert verify_standard(seen.headers, seen.body, secret, now=time.time(), tolerance_s=300)
    assert not verify_standard(
        seen.headers, seen.body + b" ", secret, now=time.time(), tolerance_s=300
    )
    # AND the outbox row holds no secret
    row = outbox.get_message(actions.db, message_id)
    assert secret not in repr(row) and secret[6:] not in repr(row)


def test_inbound_hook_signatures_use_the_shared_hmac() -> None:
    # GIVEN a body, a secret and a timestamp
    body, secret, stamp = b'{"a": 1}', "s" * 20, 1_700_000_000
    # WHEN the hook signature is computed THEN it is hex HMAC-SHA256 of "<ts>.<body>"
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
    assert hooks.sign(secret, stamp, body) == "sha256=" + expected.hexdigest()
