"""Workflows and Runs pages with NiceGUI's simulated user, on real services and queue."""

from typing import cast

import pytest
from nicegui.elements.mixins.value_element import ValueElement

from tests.ui.conftest import UiWorld, by_testid, simulated_user, wait_testid

pytestmark = pytest.mark.anyio

FLOW = """name: greeter
description: Says hello.
inputs:
  who: {type: string, default: world}
steps:
  - {id: greet, agent: set, with: {text: "hello {{ inputs.who }}"}}
  - {id: shout, agent: set, needs: greet, with: {loud: "{{ steps.greet.output.text | upper }}"}}
"""


async def test_the_editor_shows_problems_inline_with_their_line(world: UiWorld) -> None:
    async with simulated_user(world, session_of="eddie") as user:
        # GIVEN the editor of a new workflow
        await user.open("/workflows/edit")
        await wait_testid(user, "no-problems")
        # WHEN the text names an unknown agent
        editor = cast(ValueElement, by_testid(user, "workflow-source").elements.pop())
        editor.set_value("name: x\nsteps:\n  - id: a\n    agent: teleport\n")
        # THEN the problem is shown with its line and step
        await wait_testid(user, "problem")
        await user.should_see("line 4, step a: unknown agent 'teleport'", retries=20)


async def test_a_run_started_from_the_list_shows_each_steps_output(world: UiWorld) -> None:
    supervisor = world.runtime.supervisor
    supervisor.create(world.tenant_id("demo"), FLOW)
    queue = world.runtime.queue
    queue.start()
    try:
        async with simulated_user(world, session_of="eddie") as user:
            # GIVEN the workflow list
            await user.open("/workflows")
            await user.should_see("greeter")
            await user.should_see("never run")
            # WHEN it is run with an input from the form
            by_testid(user, "run-workflow").click()
            await wait_testid(user, "input-who")
            cast(ValueElement, by_testid(user, "input-who").elements.pop()).set_value("team")
            by_testid(user, "start-run").click()
            # THEN the run page shows every step's output in plain words, live
            await wait_testid(user, "run-status-succeeded", tries=100)
            await user.should_see("text: hello team")
            await user.should_see("loud: HELLO TEAM")
    finally:
        queue.stop()


async def test_viewers_see_runs_but_no_buttons_that_change_them(world: UiWorld) -> None:
    supervisor = world.runtime.supervisor
    supervisor.create(world.tenant_id("demo"), FLOW)
    run_id = supervisor.run(world.tenant_id("demo"), "greeter")
    async with simulated_user(world, session_of="vera") as user:
        await user.open(f"/runs/{run_id}")
        await user.should_see("greeter")
        await user.should_not_see("Cancel")
        await user.open("/workflows")
        await user.should_see("greeter")
        await user.should_not_see("New workflow")
