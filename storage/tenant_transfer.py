"""Moving a tenant between data directories (nodes) still encrypted.

An export is a directory: `tenant.db` (an online-backup snapshot, pages still encrypted
under the tenant's own key), `blobs/` (the encrypted blob files as they are), and
`manifest.json` (the tenant's id, slug and name, the tenant key sealed to the target
node's transfer key (`storage.transfer_keys`), and a SHA-256 of every file). Import
checks the hashes, opens the sealed key with its own master key, copies the files under
`tenants/<id>/`, wraps the key under its master key and registers the tenant; the
database is opened (and migrated) before the import counts as done.
"""

import hashlib
import json
import shutil
import time
from pathlib import Path
from typing import Any

import sqlcipher3

from storage import crypto
from storage.crypto import apply_key
from storage.errors import ConflictError, DataDirError, NotFoundError
from storage.masterkey import MasterKey
from storage.records import TenantRecord
from storage.system_store import SystemStore
from storage.tenants import TenantRegistry, wrap_context
from storage.transfer_keys import open_sealed, seal

MANIFEST = "manifest.json"
FORMAT = "appliance-tenant-export"


def export_tenant(
    tenants: TenantRegistry, record: TenantRecord, recipient_key: str, out: Path
) -> dict[str, Any]:
    """Write `record`'s tenant into the new directory `out`, its key sealed to
    `recipient_key` (the target's `tenant transfer-key`); returns the manifest."""
    if out.exists() and any(out.iterdir()):
        raise DataDirError(f"export target {out} exists and is not empty")
    data = tenants.data
    tenant_key = tenants.data_key(record.id)
    sealed = seal(recipient_key, tenant_key, record.id)
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    _snapshot(data.tenant_db(record.id), out / "tenant.db", tenant_key)
    blobs = data.tenant_blobs(record.id)
    if blobs.is_dir():
        shutil.copytree(blobs, out / "blobs", ignore=shutil.ignore_patterns(".*.tmp", "*.tmp"))
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "version": 1,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "tenant": {"id": record.id, "slug": record.slug, "name": record.name},
        "key": sealed,
        "files": _hashes(out),
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return manifest


def read_export(source: Path) -> dict[str, Any]:
    """The manifest of an export whose files all match their hashes (DataDirError else)."""
    try:
        manifest: dict[str, Any] = json.loads((source / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise DataDirError(f"{source} is not a tenant export (no valid {MANIFEST})") from exc
    if manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), dict):
        raise DataDirError(f"{source}/{MANIFEST} is not a tenant export manifest")
    files = manifest["files"]
    if "tenant.db" not in files:
        raise DataDirError(f"{source} holds no tenant database")
    present = _hashes(source)
    for name, digest in files.items():
        if present.get(name) != digest:
            raise DataDirError(f"export file {name} is missing or damaged")
    extra = sorted(set(present) - set(files))
    if extra:
        raise DataDirError(f"export holds files its manifest does not list: {extra[0]}")
    return manifest


def import_tenant(
    tenants: TenantRegistry, system: SystemStore, master: MasterKey, source: Path
) -> TenantRecord:
    """Register the exported tenant in this data directory (same id, slug and name)."""
    manifest = read_export(source)
    tenant = manifest["tenant"]
    tenant_id, slug, name = str(tenant["id"]), str(tenant["slug"]), str(tenant["name"])
    tenant_key = open_sealed(master, manifest["key"], tenant_id)
    for ref in (tenant_id, slug):
        try:
            system.find_tenant(ref)
        except NotFoundError:
            continue
        raise ConflictError(f"tenant {slug!r} ({tenant_id}) already exists here")
    data = tenants.data
    target = data.tenant_dir(tenant_id)
    if target.exists():
        raise ConflictError(f"{target} already exists; remove it or import elsewhere")
    staging = target.with_name(f".{tenant_id}.importing")
    shutil.rmtree(staging, ignore_errors=True)
    staging.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    shutil.copytree(source, staging, ignore=shutil.ignore_patterns(MANIFEST))
    (staging / "blobs").mkdir(mode=0o700, exist_ok=True)
    staging.replace(target)
    wrapped = crypto.wrap(master.wrapping_key, tenant_key, wrap_context(tenant_id))
    record = system.insert_tenant(slug, name, wrapped, tenant_id)
    try:
        tenants.database(tenant_id)  # opens with the key and applies newer migrations
    except BaseException:
        tenants.delete(tenant_id)
        raise
    return record


def _snapshot(source: Path, target: Path, key: bytes) -> None:
    """A consistent copy of a live SQLCipher file (online backup API), same key."""
    src = sqlcipher3.connect(str(source), isolation_level=None)
    dst = sqlcipher3.connect(str(target), isolation_level=None)
    try:
        apply_key(src, key)
        apply_key(dst, key)
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    target.chmod(0o600)


def _hashes(root: Path) -> dict[str, str]:
    found = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name != MANIFEST:
            digest = hashlib.sha256()
            with path.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
            found[str(path.relative_to(root))] = digest.hexdigest()
    return found
