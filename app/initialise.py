"""`appliance init`: a new data directory with keys, databases, TLS and the first admin."""

import os
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass

from app.auth.passwords import Passwords
from app.operations.actor import Actor
from app.operations.tenants import create_tenant_in
from app.queue import build_huey
from app.services import database_options, open_system_db
from app.settings import Settings
from app.tls import create_self_signed
from storage import masterkey
from storage.datadir import DataDir
from storage.errors import DataDirError
from storage.masterkey import PassphraseKdf
from storage.system_store import SystemStore
from storage.tenants import TenantRegistry


@dataclass(frozen=True)
class InitResult:
    admin_user: str
    generated_password: str | None
    demo_tenant: str | None


def initialise(
    settings: Settings,
    admin_user: str,
    admin_password: str | None,
    demo: bool,
    passphrase: Callable[[], str] | None,
) -> InitResult:
    """Create everything; on any failure remove what this call created."""
    data = DataDir(settings.data_dir)
    if data.is_initialised() or data.key_info_file.exists() or data.system_db.exists():
        raise DataDirError(f"{data.root} is already initialised")
    if data.root.exists() and any(data.root.iterdir()):
        raise DataDirError(f"{data.root} is not empty; choose a new directory")
    data.require_writable_parent()
    passwords = Passwords(settings.security)
    generated = None
    if admin_password is None:
        generated = secrets.token_urlsafe(18)
        admin_password = generated
    password_hash = passwords.hash(admin_password)
    created_root = not data.root.exists()
    try:
        data.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(data.root, 0o700)
        if passphrase is None:
            master = masterkey.create_key_file(data)
        else:
            kdf = PassphraseKdf(
                memory_kib=settings.security.passphrase_kdf_memory_kib,
                time_cost=settings.security.passphrase_kdf_time_cost,
            )
            master = masterkey.create_from_passphrase(data, passphrase(), kdf)
        for directory in (data.tenants_dir, data.inbox_dir, data.models_dir):
            directory.mkdir(mode=0o700, exist_ok=True)
        system_db = open_system_db(data, master, settings)
        try:
            system = SystemStore(system_db)
            admin = system.insert_user(admin_user, password_hash, is_admin=True)
            system.audit("user.create", actor="init", target=admin.username, detail={"admin": True})
            demo_slug = None
            if demo:
                tenants = TenantRegistry(data, system, master, database_options(settings))
                tenant = create_tenant_in(
                    tenants, system, data.inbox_dir, Actor("init"), "demo", "Demo", admin
                )
                tenants.close()
                demo_slug = tenant.slug
        finally:
            system_db.close()
        huey = build_huey(data, master)
        huey.storage.close()
        create_self_signed(data.tls_dir, master)
    except BaseException:
        if created_root:
            shutil.rmtree(data.root, ignore_errors=True)
        else:
            for child in data.root.iterdir():
                if child.is_dir():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
        raise
    return InitResult(admin_user, generated, demo_slug)
