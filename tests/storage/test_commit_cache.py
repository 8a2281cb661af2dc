"""The system store's hot lookups are cached only until anyone commits to system.db."""

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.crypto import random_key
from storage.database import Database, DatabaseOptions
from storage.system_schema import system_migrations
from storage.system_store import SystemStore


@pytest.fixture
def key() -> bytes:
    return random_key()


@pytest.fixture
def store(tmp_path: Path, key: bytes) -> Iterator[SystemStore]:
    db = Database(tmp_path / "system.db", key, DatabaseOptions(), system_migrations)
    store = SystemStore(db)
    yield store
    store.close()
    db.close()


def test_a_token_version_bump_is_seen_on_the_next_lookup(store: SystemStore) -> None:
    # GIVEN a user whose row has been read (and cached)
    user = store.insert_user("alice", "hash", is_admin=False)
    assert store.get_user(user.id).token_version == 0  # type: ignore[union-attr]
    # WHEN the token version is bumped (a logout)
    store.bump_token_version(user.id)
    # THEN the very next lookup sees it
    assert store.get_user(user.id).token_version == 1  # type: ignore[union-attr]


def test_a_change_committed_by_another_process_is_seen(
    store: SystemStore, tmp_path: Path, key: bytes
) -> None:
    # GIVEN alice is an owner of a tenant, and the lookup was cached
    user = store.insert_user("alice", "hash", is_admin=False)
    tenant = store.insert_tenant("alpha", "Alpha", b"wrapped", "t" * 32)
    store.set_membership(tenant.id, user.id, "owner")
    assert store.tenant_and_role("alpha", user.id)[1] == "owner"
    # WHEN another process (as `appliance member` would) removes her membership
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from storage.database import Database, DatabaseOptions\n"
        "db = Database(Path(sys.argv[1]), bytes.fromhex(sys.argv[2]), DatabaseOptions())\n"
        "with db.write() as conn:\n"
        "    conn.execute('DELETE FROM memberships WHERE user_id = ?', (sys.argv[3],))\n"
        "db.close()\n"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "system.db"), key.hex(), user.id],
        check=True,
        timeout=60,
    )
    # THEN this process sees it at once
    assert store.tenant_and_role("alpha", user.id)[1] is None


def test_unknown_users_and_tenants_are_not_cached_as_found(store: SystemStore) -> None:
    # GIVEN lookups of a user and a tenant that do not exist yet
    assert store.get_user("nobody") is None
    with pytest.raises(Exception, match="no tenant"):
        store.tenant_and_role("beta", "nobody")
    # WHEN the tenant is created THEN it is found
    store.insert_tenant("beta", "Beta", b"wrapped", "b" * 32)
    assert store.tenant_and_role("beta", "nobody")[0].slug == "beta"


def test_lookups_of_one_request_share_one_check_and_the_next_request_sees_changes(
    store: SystemStore,
) -> None:
    # GIVEN alice, owner of alpha, and one request's lookups taken before a change
    user = store.insert_user("alice", "hash", is_admin=False)
    tenant = store.insert_tenant("alpha", "Alpha", b"wrapped", "a" * 32)
    store.set_membership(tenant.id, user.id, "owner")
    during = store.lookups()
    assert during.tenant_and_role("alpha", user.id)[1] == "owner"
    # WHEN her role changes while that request is still running
    store.set_membership(tenant.id, user.id, "viewer")
    after = store.lookups()
    # THEN the next request's lookups see the change
    assert after.tenant_and_role("alpha", user.id)[1] == "viewer"
    # AND the running request keeps reading the database, never an answer older than
    # its own start, and stores nothing the next request could take for fresh
    assert during.tenant_and_role("alpha", user.id)[1] == "viewer"
    assert store.lookups().tenant_and_role("alpha", user.id)[1] == "viewer"
