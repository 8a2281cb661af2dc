"""`appliance workflow import|list|export|run`.

`run` queues the run in the data directory's queue; a running server's workers execute
it. With `--wait` this command also starts queue workers of its own (without the
scheduler, which belongs to the server), prints each step as it finishes and exits 1
when the run fails.
"""

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from agents.supervisor.service import Supervisor
from app.cli.context import CliError, open_from
from app.queue import QueueRunner
from app.runtime import build_runtime
from app.services import Services

_FINAL = ("succeeded", "failed", "cancelled")


def _open(args: argparse.Namespace) -> tuple[Services, QueueRunner, Supervisor, str]:
    services = open_from(args)
    try:
        tenant = services.system.find_tenant(args.tenant)
        runtime = build_runtime(services)
    except BaseException:
        services.close()
        raise
    return services, runtime.queue, runtime.supervisor, tenant.id


def workflow_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise CliError(f"no such file: {path}")
    services, queue, supervisor, tenant_id = _open(args)
    try:
        record, created = supervisor.import_source(
            tenant_id, path.read_text(), "cli", enabled=not args.disabled
        )
        verb = "imported" if created else "saved a new version of"
        print(f"{verb} workflow {record.name} (version {record.current_version}, id {record.id})")
    finally:
        queue.close()
        services.close()
    return 0


def workflow_list(args: argparse.Namespace) -> int:
    services, queue, supervisor, tenant_id = _open(args)
    try:
        for item in supervisor.list_workflows(tenant_id):
            triggers = ",".join(t["type"] for t in item["triggers"]) or "manual"
            last = item["last_run"]["status"] if item["last_run"] else "never run"
            state = "enabled" if item["enabled"] else "disabled"
            print(f"{item['name']}\tv{item['version']}\t{state}\t{triggers}\t{last}")
    finally:
        queue.close()
        services.close()
    return 0


def workflow_export(args: argparse.Namespace) -> int:
    services, queue, supervisor, tenant_id = _open(args)
    try:
        text = supervisor.export(tenant_id, args.name, args.version, args.format)
    finally:
        queue.close()
        services.close()
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def _inputs(pairs: list[str]) -> dict[str, Any]:
    inputs: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CliError(f"--input takes key=value, not {pair!r}")
        inputs[key] = value
    return inputs


def workflow_run(args: argparse.Namespace) -> int:
    services, queue, supervisor, tenant_id = _open(args)
    workers = False
    try:
        run_id = supervisor.run(
            tenant_id, args.name, _inputs(args.input or []), version=args.version, actor="cli"
        )
        print(f"run {run_id} queued")
        if not args.wait:
            return 0
        # every queue (steps may queue reports and deliveries), without periodic work
        queue.start(periodic=False)
        workers = True
        return _follow(supervisor, tenant_id, run_id, args.timeout)
    finally:
        if workers:
            queue.stop()
        queue.close()
        services.close()


def _follow(supervisor: Supervisor, tenant_id: str, run_id: str, timeout: float) -> int:
    shown: set[tuple[str, int | None, int]] = set()
    deadline = time.monotonic() + timeout
    while True:
        detail = supervisor.run_detail(tenant_id, run_id)
        for step in detail["steps"]:
            key = (step["step_id"], step["item"], step["attempts"])
            if (
                step["status"] in ("succeeded", "failed", "skipped", "cancelled")
                and key not in shown
            ):
                shown.add(key)
                print(_step_line(step))
        if detail["status"] in _FINAL:
            error = detail["error"]
            reason = f": {error['code']}: {error['message']}" if error else ""
            print(f"run {run_id} {detail['status']}{reason}")
            return 0 if detail["status"] == "succeeded" else 1
        if time.monotonic() > deadline:
            print(f"run {run_id} still {detail['status']} after {timeout:g}s", file=sys.stderr)
            return 1
        time.sleep(0.2)


def _step_line(step: dict[str, Any]) -> str:
    name = step["step_id"] if step["item"] is None else f"{step['step_id']}[{step['item']}]"
    if step["status"] == "failed":
        return f"  {name}: failed ({step['error']['code']}: {step['error']['message']})"
    if step["status"] != "succeeded":
        return f"  {name}: {step['status']}"
    output = json.dumps(step["output"], ensure_ascii=False)
    return f"  {name}: succeeded in {step['duration_s'] or 0:.2f}s {output[:200]}"
