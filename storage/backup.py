"""Consistent online backups of a data directory, and restoring them.

Each database is copied with SQLite's online backup API from a reader connection, so the
copy is a consistent snapshot even while the server writes; pages stay encrypted under
the same keys. Blob files are immutable once written and are copied as they are. The
master key file is included only on request: without it a backup is unreadable.
"""

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import sqlcipher3

from storage import crypto
from storage.crypto import apply_key
from storage.datadir import DataDir
from storage.errors import DataDirError
from storage.masterkey import MasterKey
from storage.system_store import SystemStore
from storage.tenants import wrap_context

MANIFEST = "manifest.json"


def _copy_database(source: Path, target: Path, key: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlcipher3.connect(str(source), isolation_level=None)
    dst = sqlcipher3.connect(str(target), isolation_level=None)
    try:
        apply_key(src, key)
        apply_key(dst, key)
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def backup(
    data: DataDir, master: MasterKey, system: SystemStore, out: Path, include_key: bool
) -> dict[str, object]:
    """Write a backup of `data` into the new directory `out`; returns the manifest."""
    if out.exists() and any(out.iterdir()):
        raise DataDirError(f"backup target {out} exists and is not empty")
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = DataDir(out)
    _copy_database(data.system_db, target.system_db, master.system_db_key)
    if data.queue_db.exists():
        _copy_database(data.queue_db, target.queue_db, master.queue_db_key)
    shutil.copy2(data.key_info_file, target.key_info_file)
    if include_key and data.master_key_file.exists():
        shutil.copy2(data.master_key_file, target.master_key_file)
    if (data.tls_dir).is_dir():
        shutil.copytree(data.tls_dir, target.tls_dir)
    tenants = system.list_tenants()
    for tenant in tenants:
        key = _tenant_key(system, master, tenant.id)
        _copy_database(data.tenant_db(tenant.id), target.tenant_db(tenant.id), key)
        blobs = data.tenant_blobs(tenant.id)
        if blobs.is_dir():
            shutil.copytree(
                blobs, target.tenant_blobs(tenant.id), ignore=shutil.ignore_patterns(".*.tmp")
            )
    files = {
        str(path.relative_to(out)): _sha256(path)
        for path in sorted(out.rglob("*"))
        if path.is_file()
    }
    manifest: dict[str, object] = {
        "format": 1,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "tenants": [t.slug for t in tenants],
        "includes_master_key": include_key,
        "files": files,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return manifest


def _tenant_key(system: SystemStore, master: MasterKey, tenant_id: str) -> bytes:
    return crypto.unwrap(
        master.wrapping_key, system.wrapped_key(tenant_id), wrap_context(tenant_id)
    )


def verify_backup(source: Path) -> dict[str, object]:
    """Check the manifest's hashes; raises DataDirError naming the first bad file."""
    try:
        manifest: dict[str, object] = json.loads((source / MANIFEST).read_text())
    except (FileNotFoundError, ValueError) as exc:
        raise DataDirError(f"{source} is not an appliance backup (no valid {MANIFEST})") from exc
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise DataDirError(f"{source}/{MANIFEST} lists no files")
    for name, digest in files.items():
        path = source / name
        if not path.is_file() or _sha256(path) != digest:
            raise DataDirError(f"backup file {name} is missing or damaged")
    return manifest


def restore(source: Path, data: DataDir) -> dict[str, object]:
    """Copy a verified backup into an empty or absent data directory."""
    manifest = verify_backup(source)
    if data.root.exists() and any(data.root.iterdir()):
        raise DataDirError(f"{data.root} is not empty; restore into a new directory")
    data.require_writable_parent()
    staging = data.root.with_name(data.root.name + ".restoring")
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(source, staging, ignore=shutil.ignore_patterns(MANIFEST))
    os.chmod(staging, 0o700)
    if data.root.exists():
        data.root.rmdir()
    os.replace(staging, data.root)
    return manifest
