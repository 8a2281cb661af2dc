"""Issue 17 acceptance: the server and two `appliance worker` processes on one data
directory ingest and index 500 real files (small text and HTML files from
/usr/share/doc) with nothing lost or duplicated, also when the worker owning the
periodic work is killed with -9 mid-way (the other takes over and re-queues its work)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.initialise import initialise
from app.services import open_services
from bench.common import settings_toml
from bench.ingest_corpus import find_sample_documents
from bench.scale_cluster import Cluster
from tests.conftest import ADMIN_PASSWORD, make_settings

pytestmark = pytest.mark.slow

FILES = 500


@pytest.fixture(scope="module")
def corpus() -> list[tuple[str, bytes]]:
    # small files (about 1.2 KB, one or two chunks each): the test proves no loss or
    # duplication, not speed, on a machine it shares
    files = find_sample_documents(FILES, roots=(Path("/usr/share/doc"),), max_bytes=3072)
    assert len(files) == FILES, "the machine has too few small documentation files"
    return files


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    settings = make_settings(
        tmp_path / "data",
        queue={
            "workers": 2,
            "poll_interval_s": 0.05,
            "max_poll_interval_s": 0.5,
            # quick recovery for the test; the default is two minutes
            "orphan_after_s": 5,
        },
        # ... and half a minute
        storage={"reconcile_interval_s": 2},
        ingest={"parse_workers": 1, "dropbox_enabled": False},
        # three processes embed on two cores: one torch thread each (docs/scaling.md)
        models={"embedding_threads": 1},
    )
    initialise(settings, "admin", ADMIN_PASSWORD, demo=True, passphrase=None)
    config = tmp_path / "appliance.toml"
    config.write_text(settings_toml(settings))
    running = Cluster(settings, config)
    yield running
    for child in running.children:
        child.kill_9()


def _assert_each_file_once_and_indexed(cluster: Cluster, corpus: list[tuple[str, bytes]]) -> None:
    services = open_services(cluster.settings, None)
    try:
        tenant_id = services.system.find_tenant("demo").id
        with services.tenants.database(tenant_id).read() as conn:
            documents = conn.execute(
                "SELECT count(*), count(DISTINCT sha256) FROM documents"
            ).fetchone()
            states = dict(
                conn.execute("SELECT state, count(*) FROM documents GROUP BY state").fetchall()
            )
            problems = conn.execute(
                "SELECT state, error_code, substr(error_message, 1, 160), count(*) "
                "FROM documents WHERE state != 'indexed' GROUP BY 1, 2, 3"
            ).fetchall()
            chunks = conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
            vectors = conn.execute("SELECT count(*) FROM chunk_vectors").fetchone()[0]
            unindexed = conn.execute(
                "SELECT count(*) FROM documents d WHERE state = 'indexed' AND NOT EXISTS "
                "(SELECT 1 FROM chunks c WHERE c.document_id = d.id)"
            ).fetchone()[0]
    finally:
        services.close()
    assert tuple(documents) == (len(corpus), len(corpus))
    # every document reached a final state; the only failures are files without text
    # (some HTML pages in /usr/share/doc are redirects), a property of the file
    assert set(states) <= {"indexed", "failed"}, problems
    assert all(code == "empty" for _, code, _, _ in problems), problems
    assert states["indexed"] >= len(corpus) * 0.9
    # every chunk has its one vector, and every indexed document its chunks
    assert chunks == vectors and chunks >= states["indexed"] and unindexed == 0


def test_server_and_two_workers_index_500_files_once_each(
    cluster: Cluster, corpus: list[tuple[str, bytes]]
) -> None:
    # GIVEN the server with its own queue workers and two worker processes
    cluster.start_server(workers=True)
    cluster.start_worker("worker-1")
    cluster.start_worker("worker-2")
    # WHEN 500 real files are uploaded through the API
    items = cluster.upload("demo", cluster.login("admin", ADMIN_PASSWORD), corpus)
    assert len(items) == FILES and not any(item.get("duplicate") for item in items)
    cluster.wait_for("demo", FILES, timeout=1800)
    # THEN each is stored once and indexed once, and every process stops cleanly
    _assert_each_file_once_and_indexed(cluster, corpus)
    assert set(cluster.stop_all().values()) == {0}


def test_a_worker_killed_mid_way_loses_nothing(
    cluster: Cluster, corpus: list[tuple[str, bytes]]
) -> None:
    # GIVEN two workers (the first owns the periodic work) and a server that only serves
    owner = cluster.start_worker("worker-1")
    other = cluster.start_worker("worker-2")
    cluster.start_server(workers=False)
    items = cluster.upload("demo", cluster.login("admin", ADMIN_PASSWORD), corpus)
    assert len(items) == FILES
    # WHEN the owner is killed with -9 while documents are being parsed and indexed
    cluster.wait_for("demo", FILES // 5, timeout=1800)
    owner.kill_9()
    # THEN the other worker takes the periodic work over, re-queues what the dead one
    # held, and every file ends indexed exactly once
    states = cluster.wait_for("demo", FILES, timeout=1800)
    assert states.get("indexed", 0) + states.get("failed", 0) == FILES, states
    assert "periodic work taken over" in other.log_text()
    _assert_each_file_once_and_indexed(cluster, corpus)
    codes = cluster.stop_all()
    assert codes["worker-2"] == 0 and codes["server"] == 0
