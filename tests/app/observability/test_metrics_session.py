"""A scripted session against a real server: the metrics move by exactly what was done,
the scrape passes `promtool check metrics`, logs stay per tenant and hold no secret."""

import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.initialise import initialise
from tests.app.observability.promtool import run_promtool
from tests.conftest import ADMIN_PASSWORD, RunningServer, make_settings, write_config

pytestmark = pytest.mark.slow

TENANT = "/api/v1/tenants/{tenant}"
CANARY = "canary-" + secrets.token_hex(12)


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def value(scrape: dict[Any, float], name: str, **labels: str) -> float:
    return scrape.get((name, frozenset(labels.items())), 0.0)


class Session:
    """The server, an admin token and what the script did."""

    def __init__(self, server: RunningServer, headers: dict[str, str]) -> None:
        self.server = server
        self.headers = headers
        self.base = server.base
        self.listings = 0

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return httpx.get(self.base + path, headers=self.headers, timeout=60, **kw)

    def post(self, path: str, body: Any) -> httpx.Response:
        return httpx.post(self.base + path, json=body, headers=self.headers, timeout=300)

    def scrape(self) -> tuple[str, dict[Any, float]]:
        response = httpx.get(self.base + "/metrics", timeout=30)
        assert response.status_code == 200, response.text
        return response.text, samples(response.text)

    def wait_indexed(self, tenant: str, count: int) -> None:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            self.listings += tenant == "demo"
            items = self.get(f"/api/v1/tenants/{tenant}/documents").json()["items"]
            if len(items) == count and all(i["state"] == "indexed" for i in items):
                return
            time.sleep(0.5)
        raise AssertionError("documents not indexed in time")


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    root = tmp_path_factory.mktemp("observed")
    settings = make_settings(root / "data")
    initialise(settings, "admin", ADMIN_PASSWORD, demo=True, passphrase=None)
    server = RunningServer(root / "data", write_config(root / "appliance.toml", settings))
    try:
        server.wait_ready(180)
        login = httpx.post(
            server.base + "/api/v1/auth/login",
            json={"username": "admin", "password": ADMIN_PASSWORD},
        )
        yield Session(server, {"Authorization": f"Bearer {login.json()['access_token']}"})
    finally:
        server.stop()


@pytest.fixture(scope="module")
def scripted(session: Session) -> dict[str, Any]:
    """Upload two documents, wait for indexing, search once, ask once; scrape around it."""
    # an API key used for the session's work: a secret that must reach no log line
    key = session.post(f"{TENANT.format(tenant='demo')}/api-keys", {"name": "s", "role": "editor"})
    assert key.status_code == 201, key.text
    api_key = key.json()["key"]
    before_text, before = session.scrape()
    session.headers = {"Authorization": f"Bearer {api_key}"}
    upload = session.post(
        "/api/v1/tenants/demo/documents",
        [
            {"filename": "moon.txt", "text": f"The moon is made of green cheese. {CANARY}"},
            {"filename": "sun.txt", "text": "The sun is a star made of hot plasma."},
        ],
    )
    assert upload.status_code == 202, upload.text
    session.wait_indexed("demo", 2)
    search = session.post("/api/v1/tenants/demo/search", {"query": f"moon cheese {CANARY}"})
    assert search.status_code == 200, search.text
    ask = session.post("/api/v1/tenants/demo/ask", {"question": "What is the moon made of?"})
    assert ask.status_code == 200 and not ask.json()["no_answer"], ask.text
    # arrivals are read at scrape time and cached for a few seconds
    time.sleep(6)
    after_text, after = session.scrape()
    session.headers = {
        "Authorization": "Bearer "
        + httpx.post(
            session.base + "/api/v1/auth/login",
            json={"username": "admin", "password": ADMIN_PASSWORD},
        ).json()["access_token"]
    }
    return {
        "before": before,
        "after": after,
        "text": after_text,
        "before_text": before_text,
        "upload_request_id": upload.headers["x-request-id"],
        "api_key": api_key,
    }


def test_the_live_scrape_passes_promtool_check_metrics(scripted: dict[str, Any]) -> None:
    # WHEN promtool lints the live scrape taken after the session
    result = run_promtool("check", "metrics", stdin=scripted["text"])
    # THEN it finds no problem
    assert result.returncode == 0, result.stdout + result.stderr


def test_counters_and_histograms_moved_by_exactly_the_session(
    session: Session, scripted: dict[str, Any]
) -> None:
    before, after = scripted["before"], scripted["after"]

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    def requests(method: str, route: str) -> float:
        return delta("appliance_http_requests_total", method=method, route=route, status="2xx")

    demo = TENANT
    # THEN each request of the script was counted once, by route template
    assert requests("POST", demo + "/documents") == 1
    assert requests("POST", demo + "/search") == 1
    assert requests("POST", demo + "/ask") == 1
    assert requests("GET", demo + "/documents") == session.listings
    assert requests("GET", "/metrics") == 1  # the first scrape, seen by the second
    assert (
        delta(
            "appliance_http_request_duration_seconds_count",
            method="POST",
            route=demo + "/ask",
        )
        == 1
    )
    # AND the queue ran one parse and one index task per document, all fine
    assert delta("appliance_queue_tasks_total", task="ingest.parse", outcome="ok") == 2
    assert delta("appliance_queue_tasks_total", task="analyze.index", outcome="ok") == 2
    assert delta("appliance_queue_task_duration_seconds_count", task="ingest.parse") == 2
    assert delta("appliance_parse_duration_seconds_count", outcome="ok") == 2
    assert delta("appliance_index_duration_seconds_count", outcome="indexed") == 2
    assert (
        delta("appliance_ingest_documents_total", source="upload", outcome="added", tenant="demo")
        == 2
    )
    # AND one search, one ask, one streamed model call with its first token timed
    assert delta("appliance_search_duration_seconds_count", mode="hybrid") == 1
    assert delta("appliance_searches_total", tenant="demo") == 1
    assert delta("appliance_ask_duration_seconds_count") == 1
    assert delta("appliance_asks_total", tenant="demo") == 1
    assert delta("appliance_llm_requests_total", kind="stream", outcome="ok") == 1
    assert delta("appliance_llm_time_to_first_token_seconds_count") == 1
    assert delta("appliance_llm_generated_tokens_total") > 0
    assert delta("appliance_llm_prompt_tokens_total") > 0
    # AND the gauges describe the state now
    assert value(after, "appliance_documents", state="indexed", tenant="demo") == 2
    assert value(after, "appliance_queue_depth") == 0
    assert value(after, "appliance_process_resident_memory_bytes") > 0
    assert value(after, "appliance_tenant_database_size_bytes", tenant="demo") > 0
    assert value(after, "appliance_blob_size_bytes", tenant="demo") > 0


def test_no_metric_carries_a_user_or_a_raw_path(scripted: dict[str, Any]) -> None:
    for (name, labels), _ in scripted["after"].items():
        names = dict(labels)
        assert "user" not in names and "user_id" not in names, name
        assert "/documents/" not in names.get("route", "").replace("{", "/{"), name


def test_the_secret_canary_and_the_api_key_reach_no_log_line(
    session: Session, scripted: dict[str, Any]
) -> None:
    # GIVEN the session used an API key and the canary in a document, a search and a question
    time.sleep(1.5)  # the activity log is written once a second
    server_output = session.server.log.read_text()
    log_file = "".join(
        p.read_text() for p in (session.server.log.parent / "data" / "logs").glob("*.log*")
    )
    tenant_log = session.get("/api/v1/tenants/demo/logs?limit=500").text
    appliance_log = session.get("/api/v1/logs?limit=500").text
    # THEN neither the canary nor the key nor the admin password is in any of them
    for text in (server_output, log_file, tenant_log, appliance_log):
        assert text  # something was logged
        for secret in (CANARY, scripted["api_key"], ADMIN_PASSWORD):
            assert secret not in text
    # AND the file holds JSON lines with the upload's request id
    assert scripted["upload_request_id"] in log_file


def test_a_tenants_log_shows_its_own_work_and_never_another_tenants(
    session: Session, scripted: dict[str, Any]
) -> None:
    # GIVEN a second tenant with a document of its own
    created = session.post("/api/v1/tenants", {"name": "other"})
    assert created.status_code == 201, created.text
    upload = session.post("/api/v1/tenants/other/documents", {"filename": "x.txt", "text": "x"})
    other_request = upload.headers["x-request-id"]
    session.wait_indexed("other", 1)
    time.sleep(1.5)
    # WHEN each tenant's log is read
    demo = session.get("/api/v1/tenants/demo/logs?limit=500").json()["entries"]
    other = session.get("/api/v1/tenants/other/logs?limit=500").json()["entries"]
    # THEN each holds its own requests and tasks only
    assert scripted["upload_request_id"] in {e["request_id"] for e in demo}
    assert other_request not in {e["request_id"] for e in demo}
    assert other_request in {e["request_id"] for e in other}
    assert scripted["upload_request_id"] not in {e["request_id"] for e in other}
    assert {e["agent"] for e in demo} >= {"api", "ingest", "analyze"}
    # AND filters work on the real log: the indexing agent's entries only
    analyze = session.get("/api/v1/tenants/demo/logs?agent=analyze").json()["entries"]
    assert analyze and {e["agent"] for e in analyze} == {"analyze"}


def test_status_shows_agents_queue_models_and_documents(session: Session) -> None:
    body = session.get("/api/v1/tenants/demo/status").json()
    assert body["tenant"] == "demo"
    assert {"ingest", "analyze", "llm"} <= set(body["agents"])
    assert body["queue"]["running"] is True
    assert body["documents"]["indexed"] >= 2
    assert body["models"]["llm"]["loaded"] is True
    assert isinstance(body["last_errors"], list)


def test_metrics_refuse_a_non_loopback_caller_without_the_token(tmp_path: Path) -> None:
    # covered with Litestar's test client (its client address is not loopback)
    from litestar.testing import TestClient

    from app.api.application import build_api
    from app.runtime import build_runtime
    from app.services import open_services

    for token in ("", "s3cret-token"):
        settings = make_settings(
            tmp_path / f"d{len(token)}", observability={"metrics_token": token}
        )
        initialise(settings, "admin", ADMIN_PASSWORD, demo=False, passphrase=None)
        services = open_services(settings, None)
        try:
            app = build_api(build_runtime(services))
            with TestClient(app, base_url="http://127.0.0.1:8080") as c:
                assert c.get("/metrics").status_code == 403
                if token:
                    ok = c.get("/metrics", headers={"Authorization": f"Bearer {token}"})
                    assert ok.status_code == 200 and "appliance_info" in ok.text
                    wrong = c.get("/metrics", headers={"Authorization": "Bearer nope"})
                    assert wrong.status_code == 403
        finally:
            services.close()
