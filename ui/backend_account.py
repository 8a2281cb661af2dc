"""What the account, people, settings, backup and help pages need from the appliance.

Kept apart from ui/backend.py so that module stays small; `UiBackend` includes these
Protocols. Secrets never come back through them: passwords go in only.
"""

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class SettingRow:
    """One read-only line of the settings overview: a label, its value, a plain note."""

    label: str
    value: str
    note: str = ""


@dataclass(frozen=True)
class SettingsGroup:
    title: str
    rows: list[SettingRow] = field(default_factory=list)


@dataclass(frozen=True)
class BackupDone:
    """Where a backup from the UI went, and what the person must keep besides it."""

    path: str
    files: int
    key_warning: str


class AccountBackend(Protocol):
    """One's own password; what admins do to other accounts; picking users by name."""

    def change_own_password(self, token: str | None, current: str, new: str) -> None:
        """The API's POST /auth/password: every session of the user ends afterwards."""
        ...

    def password_rule(self) -> str: ...

    def reset_password(self, token: str | None, username: str, password: str) -> None: ...

    def set_user_disabled(self, token: str | None, username: str, disabled: bool) -> None: ...

    def delete_user(self, token: str | None, username: str) -> None: ...

    def user_names(self, token: str | None, tenant_id: str) -> list[str]:
        """Usernames an owner of `tenant_id` (or an admin) may add as members."""
        ...


class SettingsBackend(Protocol):
    """The admin's read-only settings overview, backups, and the drop-box folder."""

    def settings_overview(self, token: str | None) -> list[SettingsGroup]: ...

    def dropbox_folder(self, token: str | None, tenant_id: str) -> str | None:
        """The full path of the tenant's drop-box folder (None when the drop box is off)."""
        ...

    def backup_info(self, token: str | None) -> str:
        """Where backups from the UI are written, and where the master key lives."""
        ...

    def run_backup(self, token: str | None) -> BackupDone: ...
