"""A step that meets a full disk is retried later without using up its attempts; the
run is never failed for a fault of the machine."""

from tests.agents.supervisor.conftest import Flow

ONE_ATTEMPT = """name: fragile
steps:
  - id: store
    agent: disk_full
    retry: 1
    with: {fail_times: 2}
"""


def test_a_step_that_meets_a_full_disk_twice_still_succeeds_with_one_attempt(
    flow: Flow,
) -> None:
    # GIVEN a step allowed a single attempt, which meets a full disk on its first two runs
    workflow = flow.save(ONE_ATTEMPT)
    # WHEN the run runs
    detail = flow.wait(flow.run(workflow), timeout=60)
    # THEN the run succeeded on the third call: the full disk used up no attempt
    assert detail["status"] == "succeeded", detail["steps"]
    step = flow.steps(detail)["store"]
    assert step["status"] == "succeeded"
