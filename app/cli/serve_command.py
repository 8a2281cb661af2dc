"""`appliance serve`."""

import argparse

from app.cli.context import open_from
from app.logging_setup import configure_logging


def serve(args: argparse.Namespace) -> int:
    services = open_from(args, host=args.host, port=args.port)
    # imported here: NiceGUI is heavy and configures logging on import, so ours comes after
    from app.server import serve as run_server

    configure_logging(services.settings.logging, services.data.logs_dir)
    try:
        run_server(services, workers=getattr(args, "workers", True))
    finally:
        services.close()
    return 0
