"""The reverse-proxy example routes /api/v1/tenants/{t} to the node that owns {t}: real
nginx (Debian's nginx-light) in front of two real appliance nodes on 127.0.0.1, the
example's own config with only addresses and TLS replaced (issue 17)."""

import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from app.initialise import initialise
from app.operations import tenants
from app.operations.actor import CLI
from app.services import open_services
from tests.conftest import (
    ADMIN_PASSWORD,
    RunningServer,
    free_port,
    make_settings,
    run_cli,
    write_config,
)

pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "reverse-proxy"


def _nginx() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("nginx is missing: apt-get install nginx-light (TEST_DEB_PACKAGES)")
        pytest.skip("nginx is not installed")
    return found


def _render(root: Path, node_a: int, node_b: int, proxy: int) -> Path:
    """The example with loopback upstreams, plain HTTP on `proxy`, paths under `root`."""
    site = (EXAMPLE / "nginx.conf").read_text()
    site = site.replace("10.0.0.11:8080", f"127.0.0.1:{node_a}")
    site = site.replace("10.0.0.12:8080", f"127.0.0.1:{node_b}")
    site = site.replace("10.0.0.13:8080", f"127.0.0.1:{node_a}")
    site = site.replace("listen 443 ssl;", f"listen 127.0.0.1:{proxy};")
    site = re.sub(r"^\s*ssl_certificate.*$", "", site, flags=re.MULTILINE)
    site = site.replace(
        "/etc/nginx/appliance_proxy_params", str(EXAMPLE / "appliance_proxy_params")
    )
    temp = root / "temp"
    temp.mkdir(mode=0o777, parents=True)
    temp.chmod(0o777)  # nginx's workers run as nobody when started by root
    main = root / "nginx.conf"
    main.write_text(
        f"daemon off;\npid {root}/nginx.pid;\nerror_log {root}/error.log;\n"
        "events {}\nhttp {\n  access_log off;\n"
        + "".join(
            f"  {kind}_temp_path {temp}/{kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        + f"{site}\n}}\n"
    )
    return main


@pytest.fixture
def nginx_factory(tmp_path: Path) -> Iterator[Callable[[Path], int]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(config: Path) -> int:
        nginx = _nginx()
        checked = subprocess.run(
            [nginx, "-t", "-p", str(config.parent), "-c", str(config)], capture_output=True
        )
        assert checked.returncode == 0, checked.stderr.decode()
        started.append(subprocess.Popen([nginx, "-p", str(config.parent), "-c", str(config)]))
        return started[-1].pid

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=30)


def _key(data: Path, config: Path, tenant: str) -> str:
    done = run_cli(
        "token", "create", "--tenant", tenant, "--user", "admin", "--data-dir", str(data),
        "--config", str(config),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_proxy_sends_each_tenant_to_its_node(
    tmp_path: Path,
    server_factory: Callable[..., RunningServer],
    nginx_factory: Callable[[Path], int],
) -> None:
    # GIVEN node A with tenant demo and node B with tenant acme, each with an API key
    a, b = make_settings(tmp_path / "a"), make_settings(tmp_path / "b")
    initialise(a, "admin", ADMIN_PASSWORD, demo=True, passphrase=None)
    initialise(b, "admin", ADMIN_PASSWORD, demo=False, passphrase=None)
    services = open_services(b, None)
    tenants.create_tenant(services, CLI, "acme", None, services.system.find_user("admin"))
    services.close()
    config = write_config(tmp_path / "fast.toml", a)
    key_a, key_b = _key(a.data_dir, config, "demo"), _key(b.data_dir, config, "acme")
    node_a, node_b = server_factory(a.data_dir, config), server_factory(b.data_dir, config)
    node_a.wait_ready(timeout=180)
    node_b.wait_ready(timeout=180)
    # AND nginx in front of both with the example's routing
    proxy = free_port()
    nginx_factory(_render(tmp_path / "nginx", node_a.port, node_b.port, proxy))
    base = f"http://127.0.0.1:{proxy}/api/v1"

    def get(path: str, key: str) -> httpx.Response:
        for _ in range(50):  # nginx binds its port a moment after starting
            try:
                return httpx.get(f"{base}{path}", headers={"Authorization": f"Bearer {key}"})
            except httpx.ConnectError:
                time.sleep(0.1)
        raise AssertionError("nginx did not start")

    # WHEN each tenant's documents are listed through the proxy with its node's key
    # THEN both answer: acme's request reached node B, demo's node A
    assert get("/tenants/acme/documents", key_b).status_code == 200
    assert get("/tenants/demo/documents", key_a).status_code == 200
    # AND a key of node A does not open acme (its request went to B, which does not know it)
    assert get("/tenants/acme/documents", key_a).status_code == 401
    # AND what is not a tenant route goes to the default node
    assert get("/health/live", key_a).json() == {"status": "live"}
