"""Engine semantics on a real tenant database and the real encrypted Huey queue."""

import itertools
import time

from tests.agents.supervisor.conftest import Flow


def test_independent_steps_run_in_parallel_and_outputs_flow_downstream(flow: Flow) -> None:
    # GIVEN a diamond: two sleeping steps that need only `start`, then a join
    flow.save("""
name: diamond
inputs: {n: {type: integer, default: 2}}
steps:
  - {id: start, agent: set, with: {n: "{{ inputs.n * 10 }}"}}
  - {id: left, agent: sleep, needs: start, with: {seconds: 0.4}}
  - {id: right, agent: sleep, needs: start, with: {seconds: 0.4}}
  - id: join
    agent: echo
    needs: [left, right]
    with: {total: "{{ steps.start.output.n + steps.left.output.slept }}"}
""")
    # WHEN it runs
    detail = flow.wait(flow.run("diamond"))
    # THEN it succeeds, the two branches overlapped in time, and values flowed through
    assert detail["status"] == "succeeded", detail
    (left,), (right,) = flow.journal.spans["left"], flow.journal.spans["right"]
    assert left[0] < right[1] and right[0] < left[1]
    assert flow.steps(detail)["join"]["output"] == {"total": 20.4}


def test_if_skips_a_step_and_the_steps_that_need_it(flow: Flow) -> None:
    flow.save("""
name: conditional
inputs: {go: {type: boolean, default: false}}
steps:
  - {id: maybe, agent: echo, if: "inputs.go"}
  - {id: after, agent: echo, needs: maybe}
  - {id: always, agent: echo, if: "{{ not inputs.go }}"}
""")
    steps = flow.steps(flow.wait(flow.run("conditional")))
    assert steps["maybe"]["status"] == "skipped"
    assert steps["after"]["status"] == "skipped"
    assert steps["always"]["status"] == "succeeded"
    steps = flow.steps(flow.wait(flow.run("conditional", {"go": "true"})))
    assert steps["maybe"]["status"] == steps["after"]["status"] == "succeeded"


def test_foreach_fans_out_and_collects_outputs_in_order(flow: Flow) -> None:
    flow.save("""
name: fan
steps:
  - {id: items, agent: set, with: {list: [3, 1, 2]}}
  - id: each
    agent: echo
    needs: items
    foreach: "steps.items.output.list"
    with: {double: "{{ item * 2 }}", at: "{{ item_index }}"}
""")
    detail = flow.wait(flow.run("fan"))
    assert detail["status"] == "succeeded", [s["error"] for s in detail["steps"]]
    parent = flow.steps(detail)["each"]
    assert parent["output"]["items"] == [
        {"double": 6, "at": 0},
        {"double": 2, "at": 1},
        {"double": 4, "at": 2},
    ]
    assert sum(1 for s in detail["steps"] if s["step_id"] == "each" and s["item"] is not None) == 3


def test_foreach_over_too_many_items_fails_the_step_with_too_many_items(flow: Flow) -> None:
    flow.save("""
name: huge
steps:
  - {id: each, agent: echo, foreach: "range(100000) | list", with: {i: "{{ item }}"}}
""")
    detail = flow.wait(flow.run("huge"))
    assert detail["status"] == "failed"
    assert flow.steps(detail)["each"]["error"]["code"] == "too_many_items"
    assert detail["error"]["code"] == "too_many_items"


def test_a_template_error_at_run_time_fails_the_step_with_template_error(flow: Flow) -> None:
    flow.save("""
name: undefined
steps:
  - {id: a, agent: echo, with: {v: "{{ inputs.missing }}"}}
""")
    detail = flow.wait(flow.run("undefined"))
    assert flow.steps(detail)["a"]["error"]["code"] == "template_error"
    assert flow.steps(detail)["a"]["attempts"] == 1  # not retried: it would fail again


def test_retry_runs_a_failing_step_again_with_backoff(flow: Flow) -> None:
    flow.save("""
name: flaky
steps:
  - {id: f, agent: flaky, with: {fail_times: 2}, retry: {attempts: 3, backoff: 0.1, jitter: 0.5}}
""")
    run_id = flow.run("flaky")
    detail = flow.wait(run_id)
    step = flow.steps(detail)["f"]
    assert detail["status"] == "succeeded"
    assert step["attempts"] == 3 and step["output"] == {"attempt": 3}
    assert flow.journal.calls[(run_id, "f", None)] == 3


def test_attempts_are_bounded_and_a_fatal_error_stops_retries(flow: Flow) -> None:
    flow.save("""
name: hopeless
steps:
  - {id: f, agent: flaky, with: {fail_times: 9}, retry: {attempts: 2, backoff: 0.05}}
  - {id: g, agent: flaky, with: {fail_times: 9, fatal: true}, retry: 5}
""")
    detail = flow.wait(flow.run("hopeless"))
    steps = flow.steps(detail)
    assert detail["status"] == "failed"
    assert steps["f"]["attempts"] <= 2
    assert steps["g"]["attempts"] == 1 or steps["g"]["status"] == "cancelled"


def test_on_error_continue_lets_the_run_go_on(flow: Flow) -> None:
    flow.save("""
name: tolerant
steps:
  - {id: bad, agent: boom, on_error: continue}
  - {id: next, agent: echo, needs: bad, with: {saw: "{{ steps.bad.status }}"}}
""")
    detail = flow.wait(flow.run("tolerant"))
    steps = flow.steps(detail)
    assert detail["status"] == "succeeded"
    assert steps["bad"]["error"]["code"] == "step_exception"
    assert steps["next"]["output"] == {"saw": "failed"}


def test_a_failing_run_cancels_the_rest_and_runs_on_failure_steps(flow: Flow) -> None:
    flow.save("""
name: alarm
steps:
  - {id: bad, agent: boom}
  - {id: slow, agent: sleep, with: {seconds: 5}}
  - {id: later, agent: echo, needs: bad}
on_failure:
  - {id: notify, agent: echo, with: {why: "{{ steps.bad.error.code }}"}}
""")
    detail = flow.wait(flow.run("alarm"))
    steps = flow.steps(detail)
    assert detail["status"] == "failed" and detail["error"]["code"] == "step_exception"
    assert steps["slow"]["status"] == "cancelled"
    assert "later" not in steps
    assert steps["notify"]["status"] == "succeeded"
    assert steps["notify"]["output"] == {"why": "step_exception"}


def test_a_step_that_raises_does_not_stop_the_worker_or_other_runs(flow: Flow) -> None:
    flow.save("name: broken\nsteps:\n  - {id: a, agent: boom}\n")
    flow.save("name: fine\nsteps:\n  - {id: a, agent: echo, with: {ok: true}}\n")
    broken = [flow.run("broken") for _ in range(6)]
    fine = [flow.run("fine") for _ in range(6)]
    assert all(flow.wait(r)["status"] == "failed" for r in broken)
    assert all(flow.wait(r)["status"] == "succeeded" for r in fine)
    assert flow.queue.running


def test_step_timeout_fails_the_step_and_run_timeout_fails_the_run(flow: Flow) -> None:
    flow.save(
        "name: slowstep\nsteps:\n  - {id: s, agent: sleep, with: {seconds: 2}, timeout: 0.2}\n"
    )
    detail = flow.wait(flow.run("slowstep"))
    assert flow.steps(detail)["s"]["error"]["code"] == "timeout"
    flow.save(
        "name: slowrun\ntimeout: 0.3\nsteps:\n  - {id: s, agent: sleep, with: {seconds: 1}}\n"
        "  - {id: t, agent: echo, needs: s}\n"
    )
    detail = flow.wait(flow.run("slowrun"))
    assert detail["status"] == "failed" and detail["error"]["code"] == "run_timeout"


def test_cancel_stops_a_run_and_discards_the_running_steps_result(flow: Flow) -> None:
    flow.save(
        "name: long\nsteps:\n  - {id: s, agent: sleep, with: {seconds: 0.6}}\n"
        "  - {id: t, agent: echo, needs: s}\n"
    )
    run_id = flow.run("long")
    flow.wait(run_id, until=lambda d: any(s["status"] == "running" for s in d["steps"]))
    flow.supervisor.cancel(flow.tenant_id, run_id)
    time.sleep(1.0)
    detail = flow.supervisor.run_detail(flow.tenant_id, run_id)
    assert detail["status"] == "cancelled"
    assert flow.steps(detail)["s"]["status"] == "cancelled"
    assert "t" not in flow.steps(detail)


def test_retry_from_the_failed_step_keeps_earlier_outputs(flow: Flow) -> None:
    flow.save("""
name: resumable
steps:
  - {id: first, agent: echo, with: {v: 1}}
  - {id: second, agent: flaky, needs: first, with: {fail_times: 1}}
""")
    run_id = flow.run("resumable")
    assert flow.wait(run_id)["status"] == "failed"
    # WHEN retried from the failed step (its second attempt succeeds)
    flow.supervisor.retry(flow.tenant_id, run_id, "failed")
    detail = flow.wait(run_id)
    # THEN the first step did not run again and its output is still there
    assert detail["status"] == "succeeded" and detail["retries"] == 1
    assert flow.journal.calls[(run_id, "first", None)] == 1
    assert flow.steps(detail)["first"]["output"] == {"v": 1}
    # and a retry from the start runs everything again
    flow.supervisor.retry(flow.tenant_id, run_id, "start")
    assert flow.wait(run_id)["status"] in ("succeeded", "failed")
    assert flow.journal.calls[(run_id, "first", None)] == 2


def test_the_concurrency_limit_makes_excess_runs_wait_in_order(flow: Flow) -> None:
    flow.save(
        "name: single\nconcurrency: 1\nsteps:\n  - {id: s, agent: sleep, with: {seconds: 0.15}}\n"
    )
    runs = [flow.run("single") for _ in range(4)]
    details = [flow.wait(r) for r in runs]
    spans = sorted((d["started_at"], d["finished_at"]) for d in details)
    assert [d["status"] for d in details] == ["succeeded"] * 4
    # one at a time, in the order they were started
    assert [d["started_at"] for d in details] == sorted(d["started_at"] for d in details)
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end <= start


def test_runs_keep_their_version_and_may_name_one(flow: Flow) -> None:
    workflow_id = flow.save("name: versioned\nsteps:\n  - {id: a, agent: set, with: {v: 1}}\n")
    flow.supervisor.update(
        flow.tenant_id,
        workflow_id,
        "name: versioned\nsteps:\n  - {id: a, agent: set, with: {v: 2}}\n",
    )
    latest = flow.wait(flow.run("versioned"))
    pinned = flow.wait(flow.run("versioned", version=1))
    assert (latest["version"], flow.steps(latest)["a"]["output"]) == (2, {"v": 2})
    assert (pinned["version"], flow.steps(pinned)["a"]["output"]) == (1, {"v": 1})
    versions = flow.supervisor.engine.workflows(flow.tenant_id).versions(workflow_id)
    assert [v["version"] for v in versions] == [2, 1]


def test_wait_parks_the_step_without_holding_a_worker(flow: Flow) -> None:
    flow.save(
        "name: pause\nsteps:\n  - {id: w, agent: wait, with: {duration: 0.5s}}\n"
        "  - {id: after, agent: echo, needs: w}\n"
    )
    run_id = flow.run("pause")
    flow.wait(run_id, until=lambda d: any(s["status"] == "waiting" for s in d["steps"]))
    assert flow.queue.busy_workers == 0
    detail = flow.wait(run_id)
    assert detail["status"] == "succeeded"
    assert flow.steps(detail)["w"]["attempts"] == 1
