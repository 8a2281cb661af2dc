"""Argument definitions of every `appliance` subcommand."""

import argparse

from app.auth.principal import ROLES
from app.cli import (
    admin_commands,
    ask_command,
    ingest_command,
    maintenance_commands,
    serve_command,
    tenant_move_commands,
    token_commands,
    worker_command,
    workflow_command,
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # one line, non-zero exit, as for every other failure
        self.exit(2, f"appliance: usage error: {message} (see --help)\n")


def _common() -> _Parser:
    common = _Parser(add_help=False)
    common.add_argument("--data-dir", help="data directory (env APPLIANCE_DATA_DIR)")
    common.add_argument("--config", help="settings file (env APPLIANCE_CONFIG)")
    common.add_argument("--debug", action="store_true", help="show tracebacks on failure")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = _Parser(prog="appliance", description="Agent Appliance: offline document agents.")
    parser.set_defaults(debug=False)
    sub = parser.add_subparsers(title="commands", parser_class=_Parser)

    def command(
        name: str,
        help_text: str,
        parent: "argparse._SubParsersAction[_Parser]" = sub,
    ) -> argparse.ArgumentParser:
        return parent.add_parser(name, help=help_text, parents=[common], description=help_text)

    p = command("init", "create a data directory with keys, databases and an admin account")
    p.add_argument("--admin-user", default="admin")
    p.add_argument("--admin-password-file", help="file holding the admin password")
    p.add_argument("--demo", action="store_true", help="also create a 'demo' tenant")
    p.add_argument(
        "--passphrase",
        action="store_true",
        help="derive the master key from a passphrase (APPLIANCE_PASSPHRASE or prompt) "
        "instead of writing master.key",
    )
    p.set_defaults(handler=admin_commands.init)

    p = command("serve", "run the web UI, REST API and queue workers")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument(
        "--no-workers",
        dest="workers",
        action="store_false",
        help="serve only; 'appliance worker' processes run the queue",
    )
    p.set_defaults(handler=serve_command.serve)

    p = command("worker", "run queue workers without the web server (same data directory)")
    p.add_argument(
        "--queues",
        help="comma-separated queues to serve: default and those [queue] separate names "
        "(documents, workflows, actions, reports); default: all",
    )
    p.add_argument("--workers", type=int, help="worker threads per queue ([queue] workers)")
    p.set_defaults(handler=worker_command.worker)

    tenant = command("tenant", "manage tenants").add_subparsers(
        title="tenant commands", parser_class=_Parser
    )
    p = command("create", "create a tenant", tenant)
    p.add_argument("name", help="short name: lowercase letters, digits, '-'")
    p.add_argument("--display-name")
    p.add_argument("--owner", help="username of its first owner (default: none)")
    p.set_defaults(handler=admin_commands.tenant_create)
    p = command("list", "list tenants", tenant)
    p.set_defaults(handler=admin_commands.tenant_list)
    p = command("delete", "delete a tenant, its key and all its files", tenant)
    p.add_argument("name")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(handler=admin_commands.tenant_delete)
    p = command("transfer-key", "print this node's public key for tenant imports", tenant)
    p.add_argument("--out", help="write it to this file instead")
    p.set_defaults(handler=tenant_move_commands.transfer_key)
    p = command("export", "export a tenant, still encrypted, for another node", tenant)
    p.add_argument("name")
    p.add_argument("--to-key", required=True, help="the target's transfer key, or its file")
    p.add_argument("--out", required=True, help="a new directory for the export")
    p.set_defaults(handler=tenant_move_commands.export)
    p = command("import", "register a tenant exported for this node", tenant)
    p.add_argument("source", help="the export directory")
    p.add_argument("--owner", help="username of its owner on this node (default: none)")
    p.set_defaults(handler=tenant_move_commands.import_)

    user = command("user", "manage user accounts").add_subparsers(
        title="user commands", parser_class=_Parser
    )
    p = command("create", "create a user", user)
    p.add_argument("username")
    p.add_argument("--password-file")
    p.add_argument("--admin", action="store_true", help="make the user an appliance admin")
    p.set_defaults(handler=admin_commands.user_create)
    p = command("list", "list users", user)
    p.set_defaults(handler=admin_commands.user_list)
    p = command("passwd", "change a user's password (signs them out everywhere)", user)
    p.add_argument("username")
    p.add_argument("--password-file")
    p.set_defaults(handler=admin_commands.user_passwd)

    member = command("member", "manage tenant memberships").add_subparsers(
        title="member commands", parser_class=_Parser
    )
    p = command("add", "give a user a role in a tenant", member)
    p.add_argument("--tenant", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--role", required=True, choices=ROLES)
    p.set_defaults(handler=admin_commands.member_add)

    p = command("doctor", "check keys, database integrity, models and free disk")
    p.add_argument("--quick", action="store_true", help="skip decrypting every blob")
    p.set_defaults(handler=maintenance_commands.doctor)

    p = command("backup", "write a consistent, still-encrypted copy of the data directory")
    p.add_argument("out", help="new directory for the backup")
    p.add_argument("--include-key", action="store_true", help="also copy master.key")
    p.set_defaults(handler=maintenance_commands.backup)

    p = command("restore", "restore a backup into an empty data directory")
    p.add_argument("backup", help="backup directory written by 'appliance backup'")
    p.set_defaults(handler=maintenance_commands.restore)

    p = command("rotate-master-key", "re-wrap every tenant key under a new master key")
    p.add_argument(
        "--new-passphrase",
        action="store_true",
        help="derive the new key from APPLIANCE_NEW_PASSPHRASE (or a prompt)",
    )
    p.set_defaults(handler=maintenance_commands.rotate_master_key)

    p = command("bench", "measure performance; JSON with ratios against the raw libraries")
    # validated by the handler: the parser must not import `bench` for every command
    p.add_argument("suite", help="what to measure (docs/benchmarks.md lists the suites)")
    p.add_argument("--json", dest="json_file", help="write the JSON here instead of stdout")
    p.add_argument("--rows", type=int, default=20_000)
    p.add_argument("--queries", type=int, default=100)
    p.set_defaults(handler=maintenance_commands.bench)

    token = command("token", "manage API keys for scripts").add_subparsers(
        title="token commands", parser_class=_Parser
    )
    p = command("create", "create an API key for a user in a tenant (printed once)", token)
    p.add_argument("--tenant", required=True)
    p.add_argument("--user", required=True)
    p.add_argument(
        "--role",
        default="viewer",
        choices=ROLES,
        help="no higher than the user's own role in the tenant (default: viewer)",
    )
    p.add_argument("--expires", help="lifetime such as 90d, 12h, 2w (default: no expiry)")
    p.add_argument("--name", help="label shown in key listings")
    p.set_defaults(handler=token_commands.token_create)
    p = command("revoke", "revoke an API key by its id (key_...)", token)
    p.add_argument("key_id")
    p.set_defaults(handler=token_commands.token_revoke)

    p = command("ingest", "add files and folders (recursively) to a tenant")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--tenant", required=True)
    p.set_defaults(handler=ingest_command.ingest)

    p = command("ask", "ask a question of a tenant's documents; the answer streams")
    p.add_argument("question", nargs="+")
    p.add_argument("--tenant", required=True)
    p.add_argument("--k", type=int, default=5, help="passages to retrieve (default 5)")
    p.set_defaults(handler=ask_command.ask)

    workflow = command("workflow", "manage and run workflows").add_subparsers(
        title="workflow commands", parser_class=_Parser
    )
    p = command(
        "import", "save a workflow from a YAML or JSON file (a new version if it exists)", workflow
    )
    p.add_argument("file")
    p.add_argument("--tenant", required=True)
    p.add_argument("--disabled", action="store_true", help="keep its automatic triggers off")
    p.set_defaults(handler=workflow_command.workflow_import)
    p = command("list", "list a tenant's workflows", workflow)
    p.add_argument("--tenant", required=True)
    p.set_defaults(handler=workflow_command.workflow_list)
    p = command("export", "print a workflow's definition", workflow)
    p.add_argument("name")
    p.add_argument("--tenant", required=True)
    p.add_argument("--version", type=int)
    p.add_argument("--format", choices=["yaml", "json"])
    p.add_argument("--output", "-o", help="write to this file instead of standard output")
    p.set_defaults(handler=workflow_command.workflow_export)
    p = command("run", "start a run; with --wait, follow it until it ends", workflow)
    p.add_argument("name")
    p.add_argument("--tenant", required=True)
    p.add_argument("--input", action="append", metavar="KEY=VALUE")
    p.add_argument("--version", type=int)
    p.add_argument("--wait", action="store_true", help="print each step; exit 1 if the run fails")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds --wait waits")
    p.set_defaults(handler=workflow_command.workflow_run)
    return parser
