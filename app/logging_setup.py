"""Process-wide logging: stderr plus a rotating file under <data>/logs."""

import logging
import logging.handlers
from pathlib import Path

from app.settings import LoggingSettings

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(settings: LoggingSettings, logs_dir: Path | None) -> None:
    root = logging.getLogger()
    root.setLevel(settings.level.upper())
    for handler in list(root.handlers):
        root.removeHandler(handler)
    console = logging.StreamHandler()
    console.setFormatter(logging.Formatter(_FORMAT))
    root.addHandler(console)
    if settings.to_file and logs_dir is not None:
        logs_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            logs_dir / "appliance.log", maxBytes=10 * 1024 * 1024, backupCount=5
        )
        handler.setFormatter(logging.Formatter(_FORMAT))
        root.addHandler(handler)
    # access logs would record query strings (one-time sign-in tickets); we log our own
    logging.getLogger("uvicorn.access").disabled = True
