"""Process-wide logging: stdout plus a rotating file under <data>/logs, one format for both
(JSON lines by default, see app/observability/log_format.py)."""

import logging
import logging.handlers
import sys
from pathlib import Path

from app.observability.log_format import JsonFormatter, TextFormatter
from app.observability.repeat_filter import QuietFileHandler, RepeatFilter
from app.settings import LoggingSettings

LOG_FILE = "appliance.log"


def formatter_for(settings: LoggingSettings) -> logging.Formatter:
    if settings.format == "json":
        return JsonFormatter()
    if settings.format == "text":
        return TextFormatter()
    raise ValueError("logging.format must be 'json' or 'text'")


def configure_logging(settings: LoggingSettings, logs_dir: Path | None) -> None:
    formatter = formatter_for(settings)
    root = logging.getLogger()
    root.setLevel(settings.level.upper())
    for handler in list(root.handlers):
        root.removeHandler(handler)
    # one filter object for both handlers: a held-back record is held back everywhere
    repeats = RepeatFilter(settings.repeat_window_s)
    console = logging.StreamHandler(sys.stdout)
    console.setFormatter(formatter)
    console.addFilter(repeats)
    root.addHandler(console)
    if settings.to_file and logs_dir is not None:
        logs_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        handler = QuietFileHandler(
            logs_dir / LOG_FILE,
            maxBytes=settings.file_max_mb * 1024 * 1024,
            backupCount=settings.file_backups,
        )
        handler.setFormatter(formatter)
        handler.addFilter(repeats)
        root.addHandler(handler)
    # access logs would record query strings (one-time sign-in tickets); we log our own
    logging.getLogger("uvicorn.access").disabled = True
