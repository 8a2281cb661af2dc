"""How a connector's secrets are separated from its settings and merged on update.

Updates follow one rule: a name left out (or given as "") keeps the stored value, a new
string replaces it, `None` removes it.
"""

from collections.abc import Mapping
from typing import Any

from agents.ingest.errors import IngestError

SECRET_NAMES: dict[str, tuple[str, ...]] = {
    "imap": ("password",),
    "pop3": ("password",),
    "hook": ("secret", "token"),
}


class ConnectorConfigError(IngestError):
    """The settings given for a connector are not valid; the message says which."""

    status_code = 422
    code = "invalid_connector"
    default_message = "The connector settings are not valid."


def split_secrets(
    kind: str, config: Mapping[str, Any], names: tuple[str, ...] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(config without secrets, secrets found in it): a password put into `config` by a
    client is treated as a secret, never stored in the clear."""
    names = SECRET_NAMES.get(kind, ()) if names is None else names
    plain = {k: v for k, v in config.items() if k not in names}
    # {"set": true} markers echoed back from a GET mean "unchanged"
    found = {k: v for k, v in config.items() if k in names and not isinstance(v, dict)}
    return plain, found


def merge_secrets(
    kind: str,
    stored: Mapping[str, str],
    given: Mapping[str, Any],
    names: tuple[str, ...] | None = None,
) -> dict[str, str]:
    """Apply an update's secrets to the stored ones: omitted or "" keeps, None removes."""
    names = SECRET_NAMES.get(kind, ()) if names is None else names
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise ConnectorConfigError(
            f"Unknown secret {unknown[0]!r}; a {kind} connector takes: {', '.join(names)}."
        )
    merged = dict(stored)
    for name, value in given.items():
        if value is None:
            merged.pop(name, None)
        elif not isinstance(value, str):
            raise ConnectorConfigError(f"The secret {name!r} must be a string.")
        elif value:
            merged[name] = value
    return merged
