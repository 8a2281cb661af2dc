"""Commands that look after the data directory: doctor, backup, restore, key rotation, bench."""

import argparse
import json
from pathlib import Path

from app.cli.context import CliError, open_from, passphrase_from, settings_from
from app.doctor import run_checks
from app.tls import create_self_signed
from storage import backup as backups
from storage import masterkey, rotation
from storage.crypto import random_key
from storage.datadir import DataDir
from storage.masterkey import MasterKey, PassphraseKdf


def doctor(args: argparse.Namespace) -> int:
    services = open_from(args)
    try:
        checks = run_checks(services, decrypt_blobs=not args.quick)
    finally:
        services.close()
    for check in checks:
        print(f"{'ok  ' if check.ok else 'FAIL'}  {check.name}: {check.detail}")
    failed = [c for c in checks if not c.ok]
    if failed:
        print(f"{len(failed)} problem(s) found")
        return 1
    print("all checks passed")
    return 0


def backup(args: argparse.Namespace) -> int:
    services = open_from(args)
    try:
        manifest = backups.backup(
            services.data, services.master, services.system, Path(args.out), args.include_key
        )
    finally:
        services.close()
    files = manifest["files"]
    print(f"backup written to {args.out} ({len(files) if isinstance(files, dict) else 0} files)")
    if not args.include_key:
        print(
            "the master key is not in the backup: keep master.key (or your passphrase) to restore"
        )
    return 0


def restore(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    data = DataDir(settings.data_dir)
    manifest = backups.restore(Path(args.backup), data)
    try:
        services = open_from(args)
    except Exception:
        print(
            f"restored files into {data.root}, but they do not open: put the matching "
            "master.key there (or set APPLIANCE_PASSPHRASE)"
        )
        raise
    services.close()
    print(f"restored {args.backup} into {data.root} (tenants: {', '.join(manifest['tenants'])})")  # type: ignore[arg-type]
    return 0


def rotate_master_key(args: argparse.Namespace) -> int:
    services = open_from(args)
    try:
        passphrase_kdf = None
        if args.new_passphrase:
            ask = passphrase_from(
                "APPLIANCE_NEW_PASSPHRASE", "New master passphrase: ", confirm=True
            )
            kdf = PassphraseKdf(
                memory_kib=services.settings.security.passphrase_kdf_memory_kib,
                time_cost=services.settings.security.passphrase_kdf_time_cost,
            )
            salt = random_key()[:16]
            new = masterkey.derive_from_passphrase(ask(), salt, kdf)
            passphrase_kdf = (salt, kdf)
        else:
            new = MasterKey(random_key())
        services.tenants.close()
        count = rotation.rotate(
            services.data, services.system_db, services.master, new, passphrase_kdf
        )
        if services.data.tls_dir.is_dir():
            # the TLS key is encrypted with a password derived from the master key
            create_self_signed(services.data.tls_dir, new)
    finally:
        services.close()
    print(f"master key rotated; {count} tenant key(s) re-wrapped")
    return 0


def bench(args: argparse.Namespace) -> int:
    from bench import run_bench
    from bench.suites import SUITES

    if args.suite not in SUITES:
        raise CliError(f"unknown benchmark suite {args.suite!r}; one of: {', '.join(SUITES)}")
    result = run_bench(args.suite, settings_from(args), rows=args.rows, queries=args.queries)
    text = json.dumps(result, indent=2)
    if args.json_file:
        Path(args.json_file).write_text(text + "\n")
        print(f"wrote {args.json_file}")
    else:
        print(text)
    if not isinstance(result, dict):
        raise CliError("benchmark produced no result")
    return 0
