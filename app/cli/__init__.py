"""The `appliance` command: parse, run, and turn any failure into one clear line."""

import os
import sys
import traceback
from collections.abc import Sequence

from agents.openmp_policy import apply_openmp_wait_policy
from app.cli.parser import build_parser
from storage.errors import ApplianceError, describe

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    # databases, keys and logs are private to the appliance's user
    os.umask(0o077)
    apply_openmp_wait_policy()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        result = args.handler(args)
        return int(result or 0)
    except KeyboardInterrupt:
        print("appliance: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place that reports failures to the user
        if args.debug:
            traceback.print_exc()
        if isinstance(exc, ApplianceError):
            message = describe(exc).message
        elif isinstance(exc, OSError):
            message = f"{exc.strerror}: {exc.filename}" if exc.filename else str(exc)
        else:
            message = f"unexpected error: {type(exc).__name__}"
            if not args.debug:
                message += " (run with --debug for details)"
        print(f"appliance: error: {message}".splitlines()[0], file=sys.stderr)
        return 1
