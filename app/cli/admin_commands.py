"""Commands that manage the data directory's accounts: init, tenant, user, member."""

import argparse
import sys
from typing import cast

from app.auth.kit import build_auth_kit
from app.auth.principal import Role
from app.cli.context import CliError, open_from, passphrase_from, read_password, settings_from
from app.initialise import initialise
from app.operations import members, tenants, users
from app.operations.actor import CLI


def init(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    password = None
    if args.admin_password_file:
        password = read_password(args.admin_password_file, "")
    passphrase = (
        passphrase_from("APPLIANCE_PASSPHRASE", "New master passphrase: ", confirm=True)
        if args.passphrase
        else None
    )
    result = initialise(settings, args.admin_user, password, args.demo, passphrase)
    print(f"initialised {settings.data_dir}")
    if not args.passphrase:
        print(f"master key: {settings.data_dir / 'master.key'} (keep a copy somewhere safe)")
    if result.generated_password:
        # shown once; only its hash is stored
        print(f"admin user: {result.admin_user}  password: {result.generated_password}")
        print("this password is not shown again; change it with 'appliance user passwd'")
    else:
        print(f"admin user: {result.admin_user} (password from {args.admin_password_file})")
    if result.demo_tenant:
        print(f"demo tenant: {result.demo_tenant}")
    return 0


def tenant_create(args: argparse.Namespace) -> int:
    services = open_from(args)
    try:
        owner = services.system.find_user(args.owner) if args.owner else None
        record = tenants.create_tenant(services, CLI, args.name, args.display_name, owner)
        print(f"created tenant {record.slug} ({record.id})")
    finally:
        services.close()
    return 0


def tenant_list(args: argparse.Namespace) -> int:
    services = open_from(args)
    try:
        for record in services.system.list_tenants():
            print(f"{record.slug}\t{record.name}\t{record.id}\t{record.created_at}")
    finally:
        services.close()
    return 0


def tenant_delete(args: argparse.Namespace) -> int:
    services = open_from(args)
    try:
        record = services.system.find_tenant(args.name)
        if not args.yes:
            if not sys.stdin.isatty():
                raise CliError("refusing to delete without --yes when not run in a terminal")
            answer = input(f"Delete tenant {record.slug} and ALL its data for good? [y/N] ")
            if answer.strip().lower() not in {"y", "yes"}:
                print("not deleted")
                return 1
        tenants.delete_tenant(services, CLI, record)
        print(f"deleted tenant {record.slug}; its key is destroyed")
    finally:
        services.close()
    return 0


def user_create(args: argparse.Namespace) -> int:
    services = open_from(args)
    try:
        users.check_username(args.username)
        password = read_password(args.password_file, f"Password for {args.username}: ")
        kit = build_auth_kit(services)
        user = users.create_user(
            services.system, kit, CLI, args.username, password, bool(args.admin)
        )
        print(f"created user {user.username}{' (admin)' if user.is_admin else ''}")
    finally:
        services.close()
    return 0


def user_list(args: argparse.Namespace) -> int:
    services = open_from(args)
    try:
        for user in services.system.list_users():
            roles = ", ".join(
                f"{m.tenant_slug}:{m.role}" for m in services.system.memberships(user_id=user.id)
            )
            flag = "admin" if user.is_admin else "-"
            print(f"{user.username}\t{flag}\t{roles or '-'}")
    finally:
        services.close()
    return 0


def user_passwd(args: argparse.Namespace) -> int:
    services = open_from(args)
    try:
        user = services.system.find_user(args.username)
        password = read_password(args.password_file, f"New password for {user.username}: ")
        users.set_password(services.system, build_auth_kit(services), CLI, user, password)
        print(f"password changed for {user.username}; their sessions and tokens are revoked")
    finally:
        services.close()
    return 0


def member_add(args: argparse.Namespace) -> int:
    services = open_from(args)
    try:
        tenant = services.system.find_tenant(args.tenant)
        member = members.set_member(
            services.system, CLI, tenant.id, args.user, cast(Role, args.role)
        )
        print(f"{member.username} is now {member.role} of {tenant.slug}")
    finally:
        services.close()
    return 0
