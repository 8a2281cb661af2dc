"""The one typed settings object, loaded once: embedded defaults < file < env < CLI flags.

Every key is documented in the root `appliance.toml`. Environment variables are named
`APPLIANCE_<SECTION>__<KEY>` (e.g. `APPLIANCE_SERVER__PORT=9000`); `APPLIANCE_DATA_DIR`
is a short alias for `storage.data_dir`.
"""

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from storage.errors import ApplianceError


class SettingsError(ApplianceError):
    """Settings could not be loaded; the message names the file and key."""

    status_code = 500
    code = "invalid_settings"


class _Section(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    pass


class ServerSettings(_Section, frozen=True, forbid_unknown_fields=True, kw_only=True):
    host: str = "127.0.0.1"
    port: int = 8080
    tls: bool = False
    allowed_hosts: list[str] = msgspec.field(
        default_factory=lambda: ["127.0.0.1", "localhost", "::1", "[::1]"]
    )
    trusted_proxies: list[str] = msgspec.field(default_factory=list)
    max_body_mb: int = 100
    shutdown_timeout_s: float = 30.0
    storage_secret_name: str = "ui-storage-secret"  # noqa: S105 - a name, not a secret


class StorageSettings(_Section, frozen=True, forbid_unknown_fields=True, kw_only=True):
    data_dir: str = "~/.local/share/agent-appliance"
    busy_timeout_ms: int = 5000
    query_timeout_ms: int = 10000
    cache_size_mb: int = 256
    synchronous: str = "FULL"
    min_free_disk_mb: int = 1024
    intake_min_free_mb: int = 256
    wal_max_mb: int = 64
    reconcile_interval_s: float = 30.0
    retry_backoff_s: float = 10.0
    retry_backoff_max_s: float = 3600.0


class QueueSettings(_Section, frozen=True, forbid_unknown_fields=True, kw_only=True):
    workers: int = 2
    poll_interval_s: float = 0.1
    max_poll_interval_s: float = 2.0
    backend: Literal["sqlite", "redis"] = "sqlite"
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_timeout_s: float = 5.0
    name: str = "appliance"
    separate: list[Literal["documents", "workflows", "actions", "reports"]] = msgspec.field(
        default_factory=list
    )
    orphan_after_s: Annotated[float, msgspec.Meta(ge=0)] = 120.0


class SecuritySettings(_Section, frozen=True, forbid_unknown_fields=True, kw_only=True):
    min_password_length: int = 12
    argon2_memory_kib: int = 19456
    argon2_time_cost: int = 2
    argon2_parallelism: int = 1
    passphrase_kdf_memory_kib: int = 262144
    passphrase_kdf_time_cost: int = 3
    access_token_minutes: int = 15
    refresh_token_days: int = 14
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    login_max_failures: int = 10
    login_window_minutes: int = 15
    login_max_failures_per_client: int = 50
    api_rate_limit_per_minute: Annotated[int, msgspec.Meta(ge=1)] = 6000


class IngestSettings(_Section, frozen=True, forbid_unknown_fields=True, kw_only=True):
    max_file_mb: int = 100
    parse_timeout_s: float = 60.0
    parse_memory_mb: int = 1024
    max_unzipped_mb: int = 512
    max_zip_entries: int = 10000
    parse_workers: int = 2
    dropbox_enabled: bool = True
    dropbox_poll_interval_s: float = 2.0
    dropbox_stable_for_s: float = 1.0
    dropbox_use_polling: bool = False
    mail_poll_interval_minutes: int = 5
    hook_timestamp_tolerance_s: int = 300


class ModelSettings(_Section, frozen=True, forbid_unknown_fields=True, kw_only=True):
    embedding_model: str = ""
    embedding_threads: Annotated[int, msgspec.Meta(ge=0)] = 0
    llm_model: str = ""
    llm_n_ctx: int = 2048
    llm_threads: int = 2
    llm_gpu_layers: int = 0
    llm_chat_format: str = ""
    llm_flash_attention: bool = True
    llm_backend: str = "llama"
    remote_base_url: str = ""
    remote_model: str = ""
    remote_api_key: str = ""
    remote_context_window: int = 8192
    remote_json_format: str = "json_schema"
    answer_min_similarity: float = 0.25
    answer_max_tokens: int = 160
    answer_passage_tokens: int = 80
    answer_temperature: float = 0.0
    answer_repeat_penalty: float = 1.15
    answer_loop_words: int = 8
    answer_support_share: float = 0.6
    answer_extractive_fallback: bool = True
    llm_warm_on_start: bool = True


class ReportSettings(_Section, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pdf_max_rows: Annotated[int, msgspec.Meta(ge=1)] = 20000
    pdf_max_pages: Annotated[int, msgspec.Meta(ge=1)] = 1000
    max_documents: Annotated[int, msgspec.Meta(ge=1)] = 200


class LoggingSettings(_Section, frozen=True, forbid_unknown_fields=True, kw_only=True):
    level: str = "INFO"
    to_file: bool = True
    format: Literal["json", "text"] = "json"
    file_max_mb: int = 10
    file_backups: int = 5
    repeat_window_s: float = 60.0


class ObservabilitySettings(_Section, frozen=True, forbid_unknown_fields=True, kw_only=True):
    metrics_enabled: bool = True
    metrics_token: str = ""
    tenant_label_limit: int = 20
    activity_enabled: bool = True
    activity_retention_days: int = 30
    activity_max_rows: int = 100000
    otlp_endpoint: str = ""


class ActionsSettings(_Section, frozen=True, forbid_unknown_fields=True, kw_only=True):
    egress_allow: list[str] = msgspec.field(default_factory=list)
    egress_guard: bool = True
    concurrency: Annotated[int, msgspec.Meta(ge=1, le=64)] = 4
    request_timeout_s: float = 30.0
    max_body_kb: Annotated[int, msgspec.Meta(ge=1)] = 1024
    max_response_kb: Annotated[int, msgspec.Meta(ge=1)] = 64
    max_attachments_mb: Annotated[int, msgspec.Meta(ge=1)] = 20


class WorkflowSettings(_Section, frozen=True, forbid_unknown_fields=True, kw_only=True):
    max_foreach_items: int = 1000
    inline_output_kb: int = 64
    max_output_mb: int = 8
    template_max_chars: int = 200000
    retention_days: float = 30.0
    retention_max_runs: int = 10000
    reconcile_interval_minutes: int = 1


class InferenceSettings(_Section, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Inference servers: LLM fail-over endpoints and remote embeddings (issue 17)."""

    llm_fallback_urls: list[str] = msgspec.field(default_factory=list)
    connect_timeout_s: Annotated[float, msgspec.Meta(gt=0)] = 5.0
    read_timeout_s: Annotated[float, msgspec.Meta(gt=0)] = 120.0
    max_retries: Annotated[int, msgspec.Meta(ge=0)] = 3
    backoff_initial_s: Annotated[float, msgspec.Meta(ge=0)] = 0.5
    backoff_max_s: Annotated[float, msgspec.Meta(ge=0)] = 8.0
    recheck_after_s: Annotated[float, msgspec.Meta(ge=0)] = 10.0
    health_max_age_s: Annotated[float, msgspec.Meta(ge=0)] = 5.0
    embedding_backend: Literal["local", "openai"] = "local"
    embedding_base_url: str = ""
    embedding_model: str = ""
    embedding_api_key: str = ""
    embedding_dimension: Annotated[int, msgspec.Meta(ge=0)] = 0
    embedding_batch_size: Annotated[int, msgspec.Meta(ge=1, le=2048)] = 32


class Settings(_Section, frozen=True, forbid_unknown_fields=True, kw_only=True):
    server: ServerSettings = msgspec.field(default_factory=ServerSettings)
    storage: StorageSettings = msgspec.field(default_factory=StorageSettings)
    queue: QueueSettings = msgspec.field(default_factory=QueueSettings)
    security: SecuritySettings = msgspec.field(default_factory=SecuritySettings)
    ingest: IngestSettings = msgspec.field(default_factory=IngestSettings)
    models: ModelSettings = msgspec.field(default_factory=ModelSettings)
    logging: LoggingSettings = msgspec.field(default_factory=LoggingSettings)
    observability: ObservabilitySettings = msgspec.field(default_factory=ObservabilitySettings)
    actions: ActionsSettings = msgspec.field(default_factory=ActionsSettings)
    workflows: WorkflowSettings = msgspec.field(default_factory=WorkflowSettings)
    reports: ReportSettings = msgspec.field(default_factory=ReportSettings)
    inference: InferenceSettings = msgspec.field(default_factory=InferenceSettings)

    @property
    def data_dir(self) -> Path:
        return Path(self.storage.data_dir).expanduser().resolve()


ENV_PREFIX = "APPLIANCE_"
_ENV_ALIASES = {"APPLIANCE_DATA_DIR": ("storage", "data_dir")}


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def _env_value(raw: str) -> Any:
    """Read a TOML literal when it parses as one (numbers, booleans, lists), else a string."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, raw in environ.items():
        if name in _ENV_ALIASES:
            section, key = _ENV_ALIASES[name]
            found.setdefault(section, {})[key] = raw
        elif name.startswith(ENV_PREFIX) and "__" in name:
            section, _, key = name[len(ENV_PREFIX) :].lower().partition("__")
            found.setdefault(section, {})[key] = _env_value(raw)
    return found


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise SettingsError(f"config file {path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {path} is not valid TOML: {exc}") from exc
    except OSError as exc:
        raise SettingsError(f"cannot read config file {path}: {exc.strerror}") from exc


def _describe(error: msgspec.ValidationError, origin: str) -> str:
    # msgspec says e.g. "Expected `int`, got `str` - at `$.server.port`"
    message = str(error)
    unknown = message.partition("unknown field `")[2].partition("`")[0]
    if unknown:
        section = message.partition(" - at `$.")[2].rstrip("`")
        name = f"{section}.{unknown}" if section else unknown
        return f"{origin}: unknown setting '{name}'"
    if " - at `$." in message:
        text, _, where = message.partition(" - at `$.")
        return f"{origin}: setting '{where.rstrip('`')}': {text}"
    return f"{origin}: {message}"


def load_settings(
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Settings:
    """Build the Settings object; raises SettingsError naming the offending key."""
    environ = os.environ if environ is None else environ
    layers: list[tuple[str, dict[str, Any]]] = []
    if config_file is None and environ.get("APPLIANCE_CONFIG"):
        config_file = Path(environ["APPLIANCE_CONFIG"])
    if config_file is not None:
        layers.append((str(config_file), _read_file(config_file)))
    layers.append(("environment", _from_env(environ)))
    layers.append(("command line", {k: dict(v) for k, v in (overrides or {}).items()}))
    merged: dict[str, Any] = {}
    for origin, layer in layers:
        # validate each layer alone first so the message names where the bad key came from
        try:
            msgspec.convert(layer, Settings, strict=False)
        except msgspec.ValidationError as exc:
            raise SettingsError(_describe(exc, origin)) from exc
        merged = _merge(merged, layer)
    return msgspec.convert(merged, Settings, strict=False)
