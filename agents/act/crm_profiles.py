"""CRM profiles: the operations create_contact, add_note, create_deal and find_contact,
each mapped to an HTTP call of a real CRM's public API.

HubSpot (CRM API v3, https://developers.hubspot.com/docs/api/crm), bearer token of a
private app (secret `token`):
  create_contact  POST /crm/v3/objects/contacts  {"properties": {email, firstname, lastname,
                  phone, company}}
  find_contact    POST /crm/v3/objects/contacts/search  {"filterGroups": [{"filters":
                  [{"propertyName": "email", "operator": "EQ", "value": email}]}], "limit": 1}
  add_note        POST /crm/v3/objects/notes  {"properties": {"hs_note_body", "hs_timestamp"},
                  "associations": [{"to": {"id": contact_id}, "types": [{"associationCategory":
                  "HUBSPOT_DEFINED", "associationTypeId": 202}]}]}
  create_deal     POST /crm/v3/objects/deals  {"properties": {dealname, amount, dealstage,
                  pipeline}} (+ association 3 to the contact when contact_id is given)
Odoo (external JSON-RPC API, https://www.odoo.com/documentation/17.0/developer/reference/
external_api.html): POST /jsonrpc {"jsonrpc": "2.0", "method": "call", "params":
{"service": "object", "method": "execute_kw", "args": [database, uid, api_key, model,
method, args, kwargs]}}; the secret `api_key` is inserted at send time only.
  create_contact  res.partner create [{name, email, phone}]
  find_contact    res.partner search_read [[["email", "=", email]]] {fields, limit: 1}
  add_note        res.partner message_post [[contact_id]] {body}
  create_deal     crm.lead create [{name, expected_revenue, partner_id, type: opportunity}]

The outbox stores {profile, operation, params}; find_contact, a read, is called by the
step directly and its answer is the step's output.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from agents.act.errors import ActionConfigError

OPERATIONS = ("create_contact", "add_note", "create_deal", "find_contact")
READ_OPERATIONS = frozenset({"find_contact"})
_REQUIRED = {
    "create_contact": ("email",),
    "find_contact": ("email",),
    "add_note": ("contact_id", "text"),
    "create_deal": ("name",),
}


def check_operation(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """The operation's parameters, or ActionConfigError naming what is missing."""
    if operation not in OPERATIONS:
        raise ActionConfigError(f"operation must be one of {', '.join(OPERATIONS)}.")
    missing = [name for name in _REQUIRED[operation] if not params.get(name)]
    if missing:
        raise ActionConfigError(f"{operation} needs {', '.join(missing)}.")
    return params


def _hubspot(operation: str, p: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if operation == "create_contact":
        names = {"email": "email", "first_name": "firstname", "last_name": "lastname"}
        names |= {"phone": "phone", "company": "company"}
        props = {target: str(p[src]) for src, target in names.items() if p.get(src)}
        return "/crm/v3/objects/contacts", {"properties": props}
    if operation == "find_contact":
        condition = {"propertyName": "email", "operator": "EQ", "value": str(p["email"])}
        return "/crm/v3/objects/contacts/search", {
            "filterGroups": [{"filters": [condition]}],
            "properties": ["email", "firstname", "lastname"],
            "limit": 1,
        }
    if operation == "add_note":
        stamp = p.get("timestamp") or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        return "/crm/v3/objects/notes", {
            "properties": {"hs_note_body": str(p["text"]), "hs_timestamp": stamp},
            "associations": [_association(p["contact_id"], 202)],
        }
    props = {"dealname": str(p["name"])}
    for src, target in (("amount", "amount"), ("stage", "dealstage"), ("pipeline", "pipeline")):
        if p.get(src) is not None:
            props[target] = str(p[src])
    body: dict[str, Any] = {"properties": props}
    if p.get("contact_id"):
        body["associations"] = [_association(p["contact_id"], 3)]
    return "/crm/v3/objects/deals", body


def _association(contact_id: Any, type_id: int) -> dict[str, Any]:
    return {
        "to": {"id": str(contact_id)},
        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}],
    }


def _odoo_call(operation: str, p: dict[str, Any]) -> tuple[str, str, list[Any], dict[str, Any]]:
    if operation == "create_contact":
        name = " ".join(str(p[k]) for k in ("first_name", "last_name") if p.get(k))
        values: dict[str, Any] = {"name": name or str(p["email"]), "email": str(p["email"])}
        if p.get("phone"):
            values["phone"] = str(p["phone"])
        return "res.partner", "create", [values], {}
    if operation == "find_contact":
        domain = [["email", "=", str(p["email"])]]
        return (
            "res.partner",
            "search_read",
            [domain],
            {"fields": ["id", "name", "email"], "limit": 1},
        )
    if operation == "add_note":
        return "res.partner", "message_post", [[int(p["contact_id"])]], {"body": str(p["text"])}
    values = {"name": str(p["name"]), "type": "opportunity"}
    if p.get("amount") is not None:
        values["expected_revenue"] = float(p["amount"])
    if p.get("contact_id"):
        values["partner_id"] = int(p["contact_id"])
    return "crm.lead", "create", [values], {}


def http_call(
    config: dict[str, Any], secrets: dict[str, str], operation: str, params: dict[str, Any]
) -> dict[str, Any]:
    """The HTTP request (method, url, body; auth headers are added by the sender) for one
    operation. Odoo's key goes into the body here, so call this at send time only."""
    base = str(config["base_url"]).rstrip("/")
    if config["profile"] == "hubspot":
        path, body = _hubspot(operation, params)
        return {"method": "POST", "url": base + path, "body": json.dumps(body)}
    model, method, args, kwargs = _odoo_call(operation, params)
    rpc_args = [config["database"], int(config["uid"]), secrets.get("api_key", "")]
    body = {
        "jsonrpc": "2.0",
        "method": "call",
        "params": {
            "service": "object",
            "method": "execute_kw",
            "args": [*rpc_args, model, method, args, kwargs],
        },
        "id": 1,
    }
    return {"method": "POST", "url": base + "/jsonrpc", "body": json.dumps(body)}


def uses_header_auth(config: dict[str, Any]) -> bool:
    """Odoo authenticates inside the JSON-RPC body; HubSpot with the connector's auth."""
    return config["profile"] != "odoo"


def result_of(config: dict[str, Any], operation: str, answer: Any) -> tuple[dict[str, Any], str]:
    """(the operation's result for the output, an error in plain words or "")."""
    if config["profile"] == "odoo":
        if not isinstance(answer, dict):
            return {}, "Odoo answered something that is not JSON-RPC."
        if answer.get("error"):
            error = answer["error"]
            detail = error.get("data", {}).get("message") or error.get("message") or "error"
            return {}, f"Odoo refused the call: {str(detail)[:300]}"
        result = answer.get("result")
        if operation == "find_contact":
            found = result[0] if isinstance(result, list) and result else None
            return {"found": found is not None, "contact": found}, ""
        return {"id": result}, ""
    if operation == "find_contact":
        results = answer.get("results") if isinstance(answer, dict) else None
        found = results[0] if results else None
        return {"found": found is not None, "contact": found}, ""
    return {"id": answer.get("id") if isinstance(answer, dict) else None}, ""
