"""Outbox and Senders pages with NiceGUI's simulated user."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.act import outbox
from agents.act.dispatcher import DeliverTask
from agents.supervisor.step import StepContext
from tests.agents.act.receivers import Receiver, Reply
from tests.ui.conftest import UiWorld, by_testid, page_dump, simulated_user, world_settings

pytestmark = pytest.mark.anyio
WEBHOOK_SECRET = "whsec_c2VuZGVyLXNlY3JldC1jYW5hcnktOTkxMw=="


@pytest.fixture
def allowed_world(tmp_path: Path) -> Iterator[UiWorld]:
    """demo with olga (owner), eddie (editor), vera (viewer); 127.0.0.1 allow-listed."""
    services = world_settings(tmp_path, actions={"egress_allow": ["127.0.0.1/32"]})
    built = UiWorld(services)
    demo = services.system.find_tenant("demo")
    for name, role in (("olga", "owner"), ("eddie", "editor"), ("vera", "viewer")):
        built.user(name)
        services.system.set_membership(demo.id, services.system.find_user(name).id, role)
    yield built
    services.close()


def _webhook(world: UiWorld, url: str, run_id: str) -> str:
    """A completed webhook step's message, then one delivery attempt by the dispatcher."""
    tenant_id = world.tenant_id("demo")
    step = world.runtime.steps.get("webhook")
    assert step is not None
    result = step.run(
        StepContext(tenant_id, run_id=run_id, step_id="notify"), {"url": url, "json": {"a": 1}}
    )
    with world.services.tenants.database(tenant_id).write() as conn:
        for write in result.on_commit:
            write(conn)
    message_id = str(result.output["message_id"])
    world.runtime.dispatcher.deliver(DeliverTask(tenant_id, message_id))
    return message_id


async def test_dead_and_disabled_messages_show_why_and_can_be_sent_again(
    allowed_world: UiWorld,
) -> None:
    # GIVEN one message refused by the egress guard and one whose endpoint answered 410
    gone = Receiver([Reply(410), Reply(200)])
    try:
        dead = _webhook(allowed_world, "http://169.254.169.254/latest", "r1")
        disabled = _webhook(allowed_world, f"{gone.url}/hook", "r2")
        async with simulated_user(allowed_world, session_of="eddie") as user:
            # WHEN the editor opens the Outbox
            await user.open("/outbox")
            # THEN both are shown with their reasons in plain words
            await user.should_see("link-local")
            await user.should_see("410 Gone")
            await user.should_see("Endpoint disabled")
            # WHEN she sends the disabled one again
            user.find("Send again").click()
            await user.should_see("Queued to be sent again.", retries=20)
        db = allowed_world.services.tenants.database(allowed_world.tenant_id("demo"))
        # THEN it went back to pending (the queue is not consumed here)
        states = {outbox.get_message(db, m).state for m in (dead, disabled)}
        assert "pending" in states
    finally:
        gone.close()


async def test_a_viewer_sees_no_send_again_button(allowed_world: UiWorld) -> None:
    _webhook(allowed_world, "http://10.0.0.1/", "r3")
    async with simulated_user(allowed_world, session_of="vera") as user:
        await user.open("/outbox")
        await user.should_see("dead")
        await user.should_not_see("Send again")


async def test_owner_adds_a_webhook_sender_whose_secret_never_returns(
    allowed_world: UiWorld,
) -> None:
    async with simulated_user(allowed_world, session_of="olga") as user:
        # GIVEN the owner on the Senders page
        await user.open("/senders")
        await user.should_see("No senders yet")
        # WHEN she adds a webhook with a secret
        by_testid(user, "add-sender").click()
        user.find("Name").type("erp")
        user.find("secret (not set)").type(WEBHOOK_SECRET)
        by_testid(user, "sender-save").click()
        # THEN it is listed with the secret only as "set", and nowhere in the page
        await user.should_see("secret set", retries=20)
        assert WEBHOOK_SECRET not in page_dump(user)
