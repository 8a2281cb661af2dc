"""CRM steps against a local server implementing the documented HubSpot and Odoo subset."""

from collections.abc import Callable

from agents.act import outbox
from tests.agents.act.conftest import Actions
from tests.agents.act.fake_crm import ODOO_DB, ODOO_KEY, ODOO_UID, TOKEN, FakeCrm
from tests.agents.act.receivers import Receiver


def _deliver(actions: Actions, operation: str, fields: dict, run_id: str) -> outbox.OutboxMessage:
    result = actions.complete(
        "crm", {"connector": "crm", "operation": operation, "fields": fields}, run_id=run_id
    )
    actions.deliver_queued()
    return outbox.get_message(actions.db, result.output["message_id"])


def test_hubspot_contact_note_and_deal_then_find(
    actions: Actions, receiver_factory: Callable[..., Receiver]
) -> None:
    # GIVEN a HubSpot-like server and a crm connector with a private-app token
    crm = FakeCrm()
    server = receiver_factory(handler=crm)
    actions.connectors.create(
        "crm", "crm", {"profile": "hubspot", "base_url": server.url}, {"token": TOKEN}
    )

    # WHEN a contact, a note on it and a deal are created through the outbox
    contact = _deliver(
        actions, "create_contact", {"email": "a@b.example", "first_name": "Ann"}, "r1"
    )
    contact_id = contact.response["result"]["id"]
    note = _deliver(actions, "add_note", {"contact_id": contact_id, "text": "Invoice sent"}, "r2")
    deal = _deliver(
        actions, "create_deal", {"name": "Renewal", "amount": 1200, "contact_id": contact_id}, "r3"
    )
    # AND the contact is looked up (a read: the step's output, no outbox row)
    ctx_result = actions.complete(
        "crm",
        {"connector": "crm", "operation": "find_contact", "fields": {"email": "a@b.example"}},
        run_id="r4",
    )

    # THEN each call arrived with the documented shape and an Idempotency-Key
    assert [m.state for m in (contact, note, deal)] == ["delivered"] * 3
    assert crm.contacts[0]["properties"] == {"email": "a@b.example", "firstname": "Ann"}
    assert crm.notes[0]["properties"]["hs_note_body"] == "Invoice sent"
    assert crm.deals[0]["properties"] == {"dealname": "Renewal", "amount": "1200"}
    assert crm.idempotency_keys[:3] == ["r1:crm", "r2:crm", "r3:crm"]
    assert ctx_result.output["found"] is True
    assert ctx_result.output["contact"]["id"] == contact_id
    assert outbox.counts(actions.db)["delivered"] == 3
    # AND the token is in no outbox row
    assert TOKEN not in repr(outbox.list_messages(actions.db)[0])


def test_odoo_json_rpc_contact_and_lead(
    actions: Actions, receiver_factory: Callable[..., Receiver]
) -> None:
    # GIVEN an Odoo-like server and a connector with database, uid and API key
    crm = FakeCrm()
    server = receiver_factory(handler=crm)
    actions.connectors.create(
        "crm",
        "crm",
        {"profile": "odoo", "base_url": server.url, "database": ODOO_DB, "uid": ODOO_UID},
        {"api_key": ODOO_KEY},
    )

    # WHEN a contact and a lead are created
    contact = _deliver(
        actions, "create_contact", {"email": "c@d.example", "last_name": "Doe"}, "o1"
    )
    lead = _deliver(
        actions,
        "create_deal",
        {"name": "Lead", "contact_id": contact.response["result"]["id"]},
        "o2",
    )

    # THEN both exist at the server, and the key is not in the stored payload
    assert (contact.state, lead.state) == ("delivered", "delivered")
    assert crm.contacts[0]["email"] == "c@d.example"
    assert crm.deals[0]["partner_id"] == contact.response["result"]["id"]
    assert ODOO_KEY not in repr(contact.payload)


def test_odoo_refusal_is_dead_with_its_reason(
    actions: Actions, receiver_factory: Callable[..., Receiver]
) -> None:
    # GIVEN a connector with a wrong key
    server = receiver_factory(handler=FakeCrm())
    actions.connectors.create(
        "crm",
        "crm",
        {"profile": "odoo", "base_url": server.url, "database": ODOO_DB, "uid": ODOO_UID},
        {"api_key": "wrong-key"},
    )
    # WHEN a contact is created THEN dead, the server's reason shown
    message = _deliver(actions, "create_contact", {"email": "x@y.example"}, "o3")
    assert message.state == "dead"
    assert "Access Denied" in (message.last_error or "")
