"""`appliance tenant transfer-key | export | import`: moving a tenant between nodes."""

import argparse
from pathlib import Path

from app.cli.context import CliError, open_from
from app.operations import tenant_moves
from app.operations.actor import CLI


def transfer_key(args: argparse.Namespace) -> int:
    """Print (or write) this node's public transfer key."""
    services = open_from(args)
    try:
        key = tenant_moves.transfer_key(services)
    finally:
        services.close()
    if args.out:
        Path(args.out).write_text(key + "\n")
        print(f"transfer key written to {args.out}")
    else:
        print(key)
    return 0


def export(args: argparse.Namespace) -> int:
    """Export a tenant, its key sealed to the target's transfer key."""
    recipient = args.to_key
    candidate = Path(recipient)
    if candidate.is_file():
        recipient = candidate.read_text()
    elif not recipient.startswith("appliance-transfer-"):
        raise CliError(f"--to-key: {recipient} is neither a transfer key nor a file holding one")
    services = open_from(args)
    try:
        tenant = services.system.find_tenant(args.name)
        manifest = tenant_moves.export(services, CLI, tenant, recipient, Path(args.out))
    finally:
        services.close()
    print(
        f"exported tenant {tenant.slug} ({len(manifest['files'])} files) to {args.out}; "
        "only the target node can open it"
    )
    return 0


def import_(args: argparse.Namespace) -> int:
    """Register an exported tenant in this data directory."""
    services = open_from(args)
    try:
        owner = services.system.find_user(args.owner) if args.owner else None
        record = tenant_moves.import_(services, CLI, Path(args.source), owner)
    finally:
        services.close()
    print(f"imported tenant {record.slug} ({record.id})")
    return 0
