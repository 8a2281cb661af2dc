"""The admin's read-only settings overview, backups from the UI, and drop-box folders.

No secret leaves here: for a remote model key or the metrics token only whether one is
set is shown. Backups use storage.backup exactly as `appliance backup` does, always
without the master key, into <data>/backups/.
"""

import time
from collections.abc import Callable
from pathlib import Path

from agents.ingest.sources.connectors import ConnectorStore
from app.runtime import Runtime
from app.services import Services
from app.ui_backend.gate import SessionGate
from storage import backup as backups
from storage.masterkey import read_key_info
from ui.backend import ModelStatus
from ui.backend_account import BackupDone, SettingRow, SettingsGroup

HOOK_PATH = "/api/v1/tenants/{tenant}/hooks/{hook_id}"


def _is_set(value: str) -> str:
    return "set (hidden)" if value else "not set"


class SettingsMethods:
    _gate: SessionGate
    _services: Services
    _runtime: Runtime

    models: Callable[[], list[ModelStatus]]  # DocumentMethods.models

    def dropbox_folder(self, token: str | None, tenant_id: str) -> str | None:
        access = self._gate.access(token, tenant_id, "viewer", active=False)
        if not self._services.settings.ingest.dropbox_enabled:
            return None
        return str(self._services.data.inbox_dir / access.tenant.slug)

    def _base_url(self) -> str:
        server = self._services.settings.server
        scheme = "https" if server.tls else "http"
        # listening on every address: other machines use this machine's name
        wildcard = server.host in ("0.0.0.0", "::", "")  # noqa: S104 - compared, not bound
        host = "<this machine's name>" if wildcard else server.host
        return f"{scheme}://{host}:{server.port}"

    def _hooks(self) -> list[SettingRow]:
        rows = []
        tenants = self._services.tenants
        for tenant in self._services.system.list_tenants():
            store = ConnectorStore(tenants.database(tenant.id), tenants.data_key(tenant.id))
            for record in store.list():
                if record.kind == "hook":
                    path = HOOK_PATH.format(tenant=tenant.slug, hook_id=record.id)
                    rows.append(
                        SettingRow(f"{tenant.slug}: {record.name}", self._base_url() + path)
                    )
        if not rows:
            rows.append(
                SettingRow("Inbound hooks", "none yet", "Owners add hooks through the API.")
            )
        return rows

    def settings_overview(self, token: str | None) -> list[SettingsGroup]:
        """What the appliance runs with, grouped, in plain words (appliance admins)."""
        self._gate.admin(token)
        s = self._services.settings
        data = self._services.data
        models = [
            SettingRow(
                m.kind.capitalize(),
                m.name,
                "in memory" if m.loaded else "loads on first use",
            )
            for m in self.models()
        ]
        models += [
            SettingRow("Language model runs on", s.models.llm_backend),
            SettingRow("Remote model server", s.models.remote_base_url or "none"),
            SettingRow("Remote model key", _is_set(s.models.remote_api_key)),
        ]
        mode = str(read_key_info(data).get("mode", "file"))
        return [
            SettingsGroup("Models", models),
            SettingsGroup(
                "Limits",
                [
                    SettingRow("Largest file", f"{s.ingest.max_file_mb} MB"),
                    SettingRow("Largest request", f"{s.server.max_body_mb} MB"),
                    SettingRow("Time to read one file", f"{s.ingest.parse_timeout_s:g} s"),
                    SettingRow("Documents in one report", str(s.reports.max_documents)),
                    SettingRow("Shortest password", f"{s.security.min_password_length} characters"),
                    SettingRow("Signed out after idle", f"{s.security.session_idle_minutes} min"),
                    SettingRow(
                        "API requests per minute", str(s.security.api_rate_limit_per_minute)
                    ),
                ],
            ),
            SettingsGroup(
                "Folders",
                [
                    SettingRow("Data folder", str(data.root)),
                    SettingRow(
                        "Drop-box folders",
                        str(data.inbox_dir),
                        "one folder per workspace; files put there are added"
                        if s.ingest.dropbox_enabled
                        else "the drop box is switched off",
                    ),
                    SettingRow("Backups from this page", str(data.root / "backups")),
                    SettingRow(
                        "Master key",
                        str(data.master_key_file) if mode == "file" else "from a passphrase",
                        "keep a copy away from this machine: backups need it",
                    ),
                    SettingRow("Mail checked every", f"{s.ingest.mail_poll_interval_minutes} min"),
                ],
            ),
            SettingsGroup("Inbound hook addresses", self._hooks()),
            SettingsGroup(
                "Server",
                [
                    SettingRow("Address", self._base_url()),
                    SettingRow("Allowed host names", ", ".join(s.server.allowed_hosts) or "any"),
                    SettingRow("Metrics token", _is_set(s.observability.metrics_token)),
                ],
            ),
        ]

    def backup_info(self, token: str | None) -> str:
        self._gate.admin(token)
        return self._key_warning()

    def _key_warning(self) -> str:
        data = self._services.data
        if str(read_key_info(data).get("mode", "file")) == "passphrase":
            where = "the passphrase you chose at installation"
        else:
            where = f"the master key file {data.master_key_file}"
        return (
            f"A backup is useless without the master key: it is {where}. The backup does "
            "not contain it. Keep a copy of it somewhere safe, away from this machine and "
            "apart from the backups."
        )

    def run_backup(self, token: str | None) -> BackupDone:
        """A consistent, still-encrypted copy of the data folder, as `appliance backup`."""
        admin = self._gate.admin(token)
        services = self._services
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        out = Path(services.data.root) / "backups" / f"backup-{stamp}"
        manifest = backups.backup(services.data, services.master, services.system, out, False)
        files = manifest.get("files")
        count = len(files) if isinstance(files, dict) else 0
        services.system.audit(
            "backup",
            actor=admin.username,
            client=self._gate.client(token),
            detail={"folder": out.name, "files": count},
        )
        return BackupDone(str(out), count, self._key_warning())
