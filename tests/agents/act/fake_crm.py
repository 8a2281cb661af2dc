"""A local stand-in for the documented subset of HubSpot's CRM v3 API and Odoo's
JSON-RPC API (the real services cannot run here). It checks auth and request shapes the
way the real services document them, and keeps what was created."""

from __future__ import annotations

import json
from typing import Any

from tests.agents.act.receivers import Reply, Seen

TOKEN = "pat-na1-test-token"
ODOO_KEY = "odoo-api-key-123"
ODOO_DB, ODOO_UID = "prod", 2


class FakeCrm:
    def __init__(self) -> None:
        self.contacts: list[dict[str, Any]] = []
        self.notes: list[dict[str, Any]] = []
        self.deals: list[dict[str, Any]] = []
        self.idempotency_keys: list[str] = []

    def __call__(self, seen: Seen) -> Reply:
        body = json.loads(seen.body or b"{}")
        if seen.path == "/jsonrpc":
            return self._odoo(body)
        if seen.headers.get("authorization") != f"Bearer {TOKEN}":
            return Reply(401, body=b'{"status": "error", "category": "INVALID_AUTHENTICATION"}')
        self.idempotency_keys.append(seen.headers.get("idempotency-key", ""))
        return self._hubspot(seen.path, body)

    def _created(self, store: list[dict[str, Any]], item: dict[str, Any]) -> Reply:
        item = {"id": str(len(self.contacts) + len(self.notes) + len(self.deals) + 101), **item}
        store.append(item)
        return Reply(201, body=json.dumps(item).encode())

    def _hubspot(self, path: str, body: dict[str, Any]) -> Reply:
        if path == "/crm/v3/objects/contacts":
            return self._created(self.contacts, {"properties": body["properties"]})
        if path == "/crm/v3/objects/contacts/search":
            wanted = body["filterGroups"][0]["filters"][0]["value"]
            found = [c for c in self.contacts if c["properties"].get("email") == wanted]
            return Reply(200, body=json.dumps({"total": len(found), "results": found}).encode())
        if path == "/crm/v3/objects/notes":
            assert body["associations"][0]["types"][0]["associationTypeId"] == 202
            return self._created(self.notes, body)
        if path == "/crm/v3/objects/deals":
            return self._created(self.deals, body)
        return Reply(404, body=b'{"status": "error"}')

    def _odoo(self, body: dict[str, Any]) -> Reply:
        database, uid, key, model, method, args, kwargs = body["params"]["args"]
        if (database, uid, key) != (ODOO_DB, ODOO_UID, ODOO_KEY):
            error = {
                "code": 200,
                "message": "Odoo Server Error",
                "data": {"message": "Access Denied"},
            }
            return Reply(200, body=json.dumps({"jsonrpc": "2.0", "id": 1, "error": error}).encode())
        result: Any
        if (model, method) == ("res.partner", "create"):
            result = int(self._created(self.contacts, args[0]).body and self.contacts[-1]["id"])
        elif (model, method) == ("res.partner", "search_read"):
            email = args[0][0][2]
            result = [
                {"id": int(c["id"]), "name": c.get("name"), "email": c.get("email")}
                for c in self.contacts
                if c.get("email") == email
            ][: kwargs.get("limit", 80)]
        elif (model, method) == ("res.partner", "message_post"):
            self._created(self.notes, {"partner": args[0][0], **kwargs})
            result = int(self.notes[-1]["id"])
        elif (model, method) == ("crm.lead", "create"):
            self._created(self.deals, args[0])
            result = int(self.deals[-1]["id"])
        else:
            result = None
        return Reply(200, body=json.dumps({"jsonrpc": "2.0", "id": 1, "result": result}).encode())
