"""What every command needs: settings from flags, the passphrase source, open services."""

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.errors import AppError
from app.services import Services, open_services
from app.settings import Settings, load_settings


class CliError(AppError):
    code = "cli_error"


def settings_from(args: argparse.Namespace, **server: Any) -> Settings:
    overrides: dict[str, dict[str, Any]] = {}
    if getattr(args, "data_dir", None):
        overrides["storage"] = {"data_dir": args.data_dir}
    server_overrides = {k: v for k, v in server.items() if v is not None}
    if server_overrides:
        overrides["server"] = server_overrides
    config = Path(args.config) if getattr(args, "config", None) else None
    return load_settings(config, overrides=overrides)


def passphrase_from(env_name: str, prompt: str, confirm: bool = False) -> Callable[[], str]:
    """A callable that yields the passphrase from the environment or an interactive prompt."""

    def read() -> str:
        value = os.environ.get(env_name)
        if value:
            return value
        if not sys.stdin.isatty():
            raise CliError(f"a passphrase is needed: set {env_name} or run in a terminal")
        first = getpass.getpass(prompt)
        if confirm and getpass.getpass("Repeat: ") != first:
            raise CliError("the passphrases do not match")
        if not first:
            raise CliError("an empty passphrase is not allowed")
        return first

    return read


def open_from(args: argparse.Namespace, **server: Any) -> Services:
    settings = settings_from(args, **server)
    return open_services(settings, passphrase_from("APPLIANCE_PASSPHRASE", "Master passphrase: "))


def read_password(path: str | None, prompt: str) -> str:
    """A password from a file (first line) or typed twice at a prompt."""
    if path:
        try:
            return Path(path).read_text().splitlines()[0] if Path(path).read_text() else ""
        except OSError as exc:
            raise CliError(f"cannot read password file {path}: {exc.strerror}") from exc
    if not sys.stdin.isatty():
        raise CliError("no --password-file given and no terminal to ask for a password")
    first = getpass.getpass(prompt)
    if getpass.getpass("Repeat: ") != first:
        raise CliError("the passwords do not match")
    return first
