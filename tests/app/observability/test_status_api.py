"""GET /tenants/{t}/status: the tenant's own agents and queue; totals only for admins."""

from tests.app.conftest import ApiWorld
from tests.conftest import ADMIN_PASSWORD


def test_a_member_sees_its_tenants_status_without_other_tenants_volume(world: ApiWorld) -> None:
    # GIVEN alice, owner of alpha, and the admin as a member of alpha too
    world.user("alice")
    world.tenant("alpha", alice="owner", admin="viewer")
    # WHEN alice asks for alpha's status
    response = world.client.get("/api/v1/tenants/alpha/status", headers=world.bearer("alice"))
    # THEN agents, queue, documents, runs, models and errors are there
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["tenant"] == "alpha"
    assert {"ingest", "analyze", "llm"} <= set(body["agents"])
    assert body["documents"] == {} and body["runs_in_progress"] == 0
    assert body["last_errors"] == []
    # AND the queue shows only alpha's own work, no appliance totals
    assert set(body["queue"]) == {"running", "workers", "pending"}
    # WHEN the admin (a member) asks; THEN the totals are added
    admin = world.client.get(
        "/api/v1/tenants/alpha/status", headers=world.bearer("admin", ADMIN_PASSWORD)
    ).json()
    assert {"pending_all_tenants", "busy_workers"} <= set(admin["queue"])
