"""A bare Litestar app with the documents route's shape and no auth, for `bench api`.

Run as `python -m app.bench.bare_app PORT BODY_FILE`: it serves the JSON in BODY_FILE at
GET /api/v1/tenants/{tenant}/documents, under the same uvicorn settings as the appliance.
"""

import sys
from pathlib import Path
from typing import Any

import msgspec
import uvicorn
from litestar import Litestar, get
from litestar.params import FromPath, FromQuery


def build(body: dict[str, Any]) -> Litestar:
    @get("/api/v1/tenants/{tenant:str}/documents", sync_to_thread=False)
    def documents(tenant: FromPath[str], limit: FromQuery[int] = 20) -> dict[str, Any]:
        return body

    return Litestar(route_handlers=[documents])


def main() -> None:
    port, body_file = int(sys.argv[1]), Path(sys.argv[2])
    body = msgspec.json.decode(body_file.read_bytes())
    uvicorn.run(build(body), host="127.0.0.1", port=port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
