"""`appliance token create|revoke`: API keys for scripts, made by the machine's operator.

The key goes to stdout alone (so `KEY=$(appliance token create ...)` works) and is
never shown again; everything else goes to stderr.
"""

import argparse
import sys

from app.auth.api_keys import ApiKeys
from app.auth.key_issuing import issue_key
from app.cli.context import open_from


def token_create(args: argparse.Namespace) -> int:
    services = open_from(args)
    try:
        tenant = services.system.find_tenant(args.tenant)
        user = services.system.find_user(args.user)
        keys = ApiKeys(services.system_db)
        name = args.name or f"cli key for {user.username}"
        secret, record = issue_key(
            services.system, keys, tenant, user, args.role, name, args.expires
        )
        services.system.audit(
            "api_key.create",
            actor="cli",
            tenant_id=tenant.id,
            target=record.id,
            detail={
                "name": record.name,
                "role": record.role,
                "owner": user.username,
                "expires_at": record.public()["expires_at"],
            },
        )
    finally:
        services.close()
    expires = record.public()["expires_at"] or "never"
    print(
        f"API key {record.id} for {user.username} in {tenant.slug}: role {record.role}, "
        f"expires {expires}; it is shown only once",
        file=sys.stderr,
    )
    print(secret)
    return 0


def token_revoke(args: argparse.Namespace) -> int:
    services = open_from(args)
    try:
        keys = ApiKeys(services.system_db)
        record = keys.revoke(args.key_id)
        services.system.audit(
            "api_key.revoke",
            actor="cli",
            tenant_id=record.tenant_id,
            target=record.id,
            detail={"name": record.name, "owner": record.username},
        )
    finally:
        services.close()
    print(f"revoked API key {record.id} ({record.name}, {record.username})")
    return 0
