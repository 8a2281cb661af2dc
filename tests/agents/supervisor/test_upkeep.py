"""Retention, schedule slots, document trigger filters and the reconciler."""

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agents.supervisor.retention import Retention, prune_runs
from agents.supervisor.schedule import latest_slot
from agents.supervisor.triggers import document_matches, hook_matches
from tests.agents.supervisor.conftest import Flow, build_flow


def test_retention_prunes_finished_runs_by_count_and_never_unfinished_ones(flow: Flow) -> None:
    # GIVEN five finished runs and one that is waiting
    flow.save("name: quick\nsteps:\n  - {id: a, agent: set, with: {v: 1}}\n")
    flow.save("name: parked\nsteps:\n  - {id: w, agent: wait, with: {duration: 1h}}\n")
    finished = [flow.run("quick") for _ in range(5)]
    for run_id in finished:
        flow.wait(run_id)
    parked = flow.run("parked")
    flow.wait(parked, until=lambda d: any(s["status"] == "waiting" for s in d["steps"]))
    # WHEN runs are pruned to the newest two finished ones
    pruned = prune_runs(flow.supervisor.engine, flow.tenant_id, Retention(30, 2))
    # THEN the three oldest finished runs are gone, the waiting one stays
    assert pruned == 3
    remaining, _ = flow.supervisor.list_runs(flow.tenant_id, limit=50)
    assert {r["id"] for r in remaining} == {parked, *finished[-2:]}
    # and pruning by age spares the unfinished run too
    assert prune_runs(flow.supervisor.engine, flow.tenant_id, Retention(-1, 100)) == 2
    assert flow.supervisor.run_detail(flow.tenant_id, parked)["status"] == "running"


def test_several_missed_slots_give_one_the_latest_in_the_time_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    after = datetime(2026, 3, 2, 7, 0, tzinfo=berlin).timestamp()
    now = datetime(2026, 3, 20, 9, 0, tzinfo=berlin).timestamp()
    slot = latest_slot("0 8 * * 1", "Europe/Berlin", after, now)
    assert slot == datetime(2026, 3, 16, 8, 0, tzinfo=berlin).timestamp()
    assert latest_slot("0 8 * * 1", "Europe/Berlin", slot, now) is None


def test_document_triggers_filter_by_source_type_name_and_metadata() -> None:
    document = {
        "source": "imap",
        "document_type": "pdf",
        "filename": "Invoice-7.PDF",
        "metadata": {"team": "ap"},
    }
    assert document_matches({"source": "mailbox"}, document)
    assert not document_matches({"source": "dropbox"}, document)
    assert document_matches({"document_type": ["pdf", "docx"], "filename": "invoice-*"}, document)
    assert not document_matches({"filename": "*.txt"}, document)
    assert document_matches({"metadata": {"team": "ap"}}, document)
    assert not document_matches({"metadata": {"team": "hr"}}, document)


def test_hook_triggers_match_records_of_the_named_hook() -> None:
    record = {"source": "hook", "metadata": {"hook": "crm", "hook_id": "h1"}}
    assert hook_matches({"type": "hook", "hook": "crm"}, record)
    assert hook_matches({"type": "hook", "hook": "h1"}, record)
    assert hook_matches({"type": "hook"}, record)
    assert not hook_matches({"type": "hook", "hook": "erp"}, record)
    assert not hook_matches({"type": "hook"}, {"source": "upload", "metadata": {}})


@pytest.fixture
def stopped_flow(tmp_path: Path) -> Iterator[Flow]:
    built = build_flow(tmp_path / "data")
    yield built
    built.queue.stop()
    built.services.close()


def test_a_step_whose_worker_died_is_run_again_within_its_attempts(stopped_flow: Flow) -> None:
    flow = stopped_flow
    flow.save("name: once\nsteps:\n  - {id: a, agent: echo}\n")
    flow.save("name: twice\nsteps:\n  - {id: a, agent: echo, retry: 2}\n")
    once, twice = flow.run("once"), flow.run("twice")
    # GIVEN both steps were claimed by a process that then died (as kill -9 leaves them)
    with flow.supervisor.engine.db(flow.tenant_id).write() as conn:
        conn.execute(
            "UPDATE run_steps SET status = 'running', attempts = 1, "
            "claimed_by = '999999999:dead', started_at = 1"
        )
    # WHEN the reconciler runs at start-up and the workers start
    flow.start_up()
    flow.queue.start()
    # THEN the step with a second attempt runs it; the other fails instead of running twice
    first = flow.steps(flow.wait(once))["a"]
    second = flow.steps(flow.wait(twice))["a"]
    assert (first["status"], first["error"]["code"], first["attempts"]) == (
        "failed",
        "worker_lost",
        1,
    )
    assert (second["status"], second["attempts"]) == ("succeeded", 2)
    assert flow.journal.calls[(once, "a", None)] == 0
    assert flow.journal.calls[(twice, "a", None)] == 1
