"""Hostile files sent to a running server: each fails with its code, the server stays up."""

import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.settings import Settings
from tests.agents import hostile_files
from tests.conftest import ADMIN_PASSWORD, tree_snapshot, write_config

pytestmark = pytest.mark.slow


class _Canary(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        _Canary.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"<!ENTITY x 'canary'>")

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def canary() -> Iterator[str]:
    _Canary.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Canary)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/canary.dtd"
    server.shutdown()
    server.server_close()


def _outside_snapshot(places: list[Path]) -> dict[str, dict[str, tuple[int, int]]]:
    """Every file (size, mtime) under the places a parser could be tricked into writing to."""
    return {str(place): tree_snapshot(place) for place in places}


def test_hostile_uploads_fail_with_their_codes_and_the_server_stays_up(
    initialised: Settings, server_factory, tmp_path: Path, canary: str
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a running server, with a working directory and a temp directory of its own,
    # and an editor's token
    cwd, temp = tmp_path / "cwd", tmp_path / "tmp"
    cwd.mkdir()
    temp.mkdir()
    config = write_config(tmp_path / "c.toml", initialised)
    server = server_factory(initialised.data_dir, config, cwd=cwd, env={"TMPDIR": str(temp)})
    server.wait_ready()
    outside = [cwd, temp, Path("/etc")]
    token = httpx.post(
        f"{server.base}/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    hostile = {
        "bomb.docx": (hostile_files.zip_bomb_docx(520), {"too_large"}),
        "laughs.xlsx": (hostile_files.billion_laughs_xlsx(), {"forbidden_xml"}),
        "xxe.docx": (hostile_files.external_entity_docx(canary), {"forbidden_xml"}),
        "circular.pdf": (hostile_files.circular_pdf(), {"malformed"}),
        "empty.txt": (b"", {"empty"}),
        "truncated.pdf": (hostile_files.make_pdf(["one", "two"])[:300], {"malformed"}),
        "../../etc/passwd": (b"root:x:0:0:root:/root:/bin/bash\n", None),
    }
    before = _outside_snapshot(outside)
    # WHEN each is uploaded
    ids = {}
    for name, (content, _) in hostile.items():
        response = httpx.post(
            f"{server.base}/api/v1/tenants/demo/documents",
            files=[("files", (name, content, "application/octet-stream"))],
            headers=headers,
            timeout=60,
        )
        assert response.status_code == 202, response.text
        ids[name] = response.json()["items"][0]["id"]
    # THEN each ends in a final state with its code, within the limits
    deadline = time.monotonic() + 120
    states: dict[str, dict[str, object]] = {}
    while time.monotonic() < deadline:
        states = {
            name: httpx.get(
                f"{server.base}/api/v1/tenants/demo/documents/{doc}", headers=headers
            ).json()
            for name, doc in ids.items()
        }
        if all(s["state"] not in ("received", "parsing") for s in states.values()):
            break
        time.sleep(0.5)
    for name, (_, codes) in hostile.items():
        if codes is None:
            continue
        assert states[name]["state"] == "failed", (name, states[name])
        assert states[name]["error"]["code"] in codes, (name, states[name])  # type: ignore[index]
    # AND the file named like a path was stored under a harmless name and parsed as text
    assert states["../../etc/passwd"]["filename"] == "passwd"
    # AND the canary got no request, nothing appeared outside the data dir, the server is up
    assert _Canary.hits == []
    assert _outside_snapshot(outside) == before
    # (nor inside it: the name was never joined to a path)
    assert list(Path(initialised.data_dir).rglob("passwd")) == []
    assert httpx.get(f"{server.base}/api/v1/health/live").status_code == 200
    assert server.stop() == 0
