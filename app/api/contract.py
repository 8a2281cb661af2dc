"""The OpenAPI document as the complete contract: errors, auth, upload and hook bodies, SSE.

Litestar describes what handlers declare (parameters, typed bodies, value constraints
from `msgspec.Meta` and `TextRule.schema()`). The rest is added here from the same
sources the request path uses, so the document cannot drift from the code:

- every error status an operation can answer, with the one error schema
  (`{"status_code", "detail", "code"}`): 400 (malformed, out of range, JSON too deep),
  401 and 403 unless the route is public (the request gate, route guards, tenant roles),
  404, 409 and 422 where a body or a write can be refused, 413 for bodies, 429 unless the
  route is exempt from the rate limit, 502 for routes that talk to mail servers, 507 for
  every write (a full disk);
- the bearer security scheme (JWT access token or API key) on every non-public route;
- request bodies Litestar cannot see because the handler reads the raw request:
  document uploads (multipart `files`, or JSON documents) and inbound hook records;
- `POST .../ask` answering `text/event-stream` when `stream` is true.

Limits that refuse a request before routing (URL length 414, header size and count
431; app/api/http_limits.py) apply to every operation and are stated in the document's
description rather than repeated on each operation.
"""

import copy
import re
from typing import Any

import msgspec
from litestar import Litestar, Request
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.routes import HTTPRoute

from app.api.limits import MAX_HEAD_BYTES, MAX_HEADERS, MAX_JSON_DEPTH, MAX_URL_BYTES, NAME

ERROR_REF = {"$ref": "#/components/schemas/Error"}
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "status_code": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
    },
    "required": ["status_code", "detail", "code"],
}
_REASONS = {
    "400": "Malformed request, a value out of range, or JSON nested too deep",
    "401": "Not signed in, or the token or API key is invalid or expired",
    "403": "Signed in, but the role or the kind of credential does not allow this",
    "404": "No such resource (or a tenant the caller is not a member of)",
    "409": "Conflicts with the current state",
    "413": "The body is larger than the limit",
    "422": "A value breaks its rule (e.g. a name with control characters)",
    "429": "Rate limit reached; retry after `Retry-After` seconds",
    "502": "The remote server (e.g. a mail server) failed",
    "507": "The appliance's disk is (almost) full: nothing was stored; retry once space is freed",
}
_BODY_METHODS = {"post", "put", "patch"}
_BASE64 = "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
_JSON_DOCUMENT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "filename": {"type": ["string", "null"]},  # shortened for display, never refused
        "content_base64": {"type": ["string", "null"], "pattern": _BASE64},
        "text": {"type": ["string", "null"]},
        "metadata": {"type": "object"},
    },
    "additionalProperties": False,
    # exactly one of the two given as a string (null counts as not given)
    "oneOf": [
        {"required": [name], "properties": {name: {"type": "string"}}}
        for name in ("text", "content_base64")
    ],
}
UPLOAD_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "files": {
                        "type": "array",
                        "items": {"type": "string", "format": "binary"},
                        "minItems": 1,
                        "maxItems": 100,
                    }
                },
                "required": ["files"],
            }
        },
        "application/json": {
            "schema": {
                "oneOf": [
                    _JSON_DOCUMENT,
                    {"type": "array", "items": _JSON_DOCUMENT, "minItems": 1, "maxItems": 100},
                ]
            }
        },
    },
}
HOOK_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "oneOf": [
                    {"type": "object"},
                    {"type": "array", "items": {"type": "object"}, "minItems": 1},
                ]
            }
        }
    },
}
HOOK_HEADERS = [
    {
        "name": name,
        "in": "header",
        "required": False,
        "schema": {"type": "string", "maxLength": 512},
        "description": description,
    }
    for name, description in (
        ("X-Appliance-Signature", "sha256=<hex HMAC-SHA256 of '<timestamp>.<raw body>'>"),
        ("X-Appliance-Timestamp", "Unix seconds the signature was made at"),
        ("X-Appliance-Hook-Token", "the hook's token, instead of a signature"),
    )
]
_ASK_EVENT = {
    "oneOf": [
        {
            "type": "object",
            "properties": {"type": {"const": "token"}, "text": {"type": "string"}},
            "required": ["type", "text"],
        },
        {
            "type": "object",
            "properties": {
                "type": {"const": "citations"},
                "citations": {"type": "array", "items": {"type": "object"}},
            },
            "required": ["type", "citations"],
        },
        {
            "type": "object",
            "properties": {
                "type": {"const": "done"},
                "no_answer": {"type": "boolean"},
                "answer": {"type": "string"},
            },
            "required": ["type", "no_answer", "answer"],
        },
    ]
}
SSE = {
    "text/event-stream": {
        "schema": {
            "type": "object",
            "description": (
                "Server-Sent Events when `stream` is true; each event's `data` is one JSON "
                "object: token events, then one citations event, then one done event"
            ),
            "properties": {
                "event": {"type": "string"},
                "data": {
                    "type": "string",
                    "contentMediaType": "application/json",
                    "contentSchema": _ASK_EVENT,
                },
            },
            "required": ["data"],
        }
    }
}
DESCRIPTION = (
    "Errors are JSON `{status_code, detail, code}`. Every request: URL at most "
    f"{MAX_URL_BYTES} bytes (414), request line and headers at most "
    f"{MAX_HEAD_BYTES // 1024} KiB and {MAX_HEADERS} fields (431); JSON bodies nested at "
    f"most {MAX_JSON_DEPTH} levels (400)."
)


_PARAMETER_TYPE = re.compile(r"\{(\w+):[^}]+\}")


def _openapi_path(route_path: str) -> str:
    """'/tenants/{tenant:str}' as OpenAPI writes it: '/tenants/{tenant}'."""
    return _PARAMETER_TYPE.sub(r"{\1}", route_path)


def _statuses(method: str, opt: dict[str, Any], path: str) -> list[str]:
    public = bool(opt.get("public"))
    found = ["400", "404"]
    if not (public and opt.get("no_rate_limit")):  # all but health: sign-in can fail
        found.append("401")
    if not public and not opt.get("hook"):
        found.append("403")
    if method in _BODY_METHODS:
        found += ["413", "422"]
    if method != "get" and not public:
        found.append("409")
    if not opt.get("no_rate_limit"):
        found.append("429")
    if path.endswith(("/test", "/poll")):
        found.append("502")
    if method != "get":  # any write may meet a full disk
        found.append("507")
    return sorted(found)


def complete(schema: dict[str, Any], app: Litestar) -> dict[str, Any]:
    """`schema` (Litestar's document) with everything the module doc lists added."""
    document = copy.deepcopy(schema)
    document["info"]["description"] = DESCRIPTION
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    _refine(schemas)
    components.setdefault("securitySchemes", {})["bearer"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "a JWT access token from /auth/login, or an API key",
    }
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        item = document["paths"].get(_openapi_path(route.path))
        if item is None:
            continue
        for handler in route.route_handlers:
            for method in (m.lower() for m in handler.http_methods):
                operation = item.get(method)
                if operation is not None:
                    _complete_operation(operation, method, handler, route.path)
    return document


_STRING_OR_LIST = {
    "anyOf": [
        {"type": "string"},
        {"type": "array", "items": {"type": "string"}, "maxItems": 1000},
    ]
}
_INSTANT = {
    "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]
}
_NULL = {"type": "null"}
# agents/analyze/search_filters.py SearchFilters.parse, as a schema (null: not given)
FILTERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "document_ids": {"anyOf": [*_STRING_OR_LIST["anyOf"], _NULL]},
        "source": {"anyOf": [*_STRING_OR_LIST["anyOf"], _NULL]},
        "type": {"anyOf": [*_STRING_OR_LIST["anyOf"], _NULL]},
        "format": {"anyOf": [*_STRING_OR_LIST["anyOf"], _NULL]},
        "date_from": {"anyOf": [*_INSTANT["anyOf"], _NULL]},
        "date_to": {"anyOf": [*_INSTANT["anyOf"], _NULL]},
        "metadata": {
            "anyOf": [
                {
                    "type": "object",
                    "additionalProperties": {"type": ["string", "number", "boolean"]},
                },
                _NULL,
            ]
        },
        "tags": {"anyOf": [*_STRING_OR_LIST["anyOf"], _NULL]},
    },
    "additionalProperties": False,
    "not": {"required": ["type", "format"]},
}
# exactly one of the two given as a string (null counts as not given)
_ONE_SOURCE = {
    "oneOf": [
        {"required": [name], "properties": {name: {"type": "string"}}}
        for name in ("document_id", "text")
    ]
}


def _strict_structs() -> dict[str, type[msgspec.Struct]]:
    found: dict[str, type[msgspec.Struct]] = {}
    pending = list(msgspec.Struct.__subclasses__())
    while pending:
        struct = pending.pop()
        pending += struct.__subclasses__()
        if struct.__struct_config__.forbid_unknown_fields:
            found[struct.__name__] = struct
    return found


def _refine(schemas: dict[str, Any]) -> None:
    """What the request structs enforce beyond what Litestar writes into their schemas:
    unknown fields refused, the rules of list items and of the search filters, and
    "exactly one of document_id and text"."""
    for name in _strict_structs():
        if name in schemas:
            schemas[name]["additionalProperties"] = False
    labels = schemas.get("ClassifyRequest", {}).get("properties", {}).get("labels")
    if labels is not None:
        labels["items"] = {
            "type": "string",
            "minLength": 1,
            "maxLength": NAME.max_chars,
            "pattern": NAME.pattern,
        }
    for name in ("SearchRequest", "AskRequest"):
        properties = schemas.get(name, {}).get("properties", {})
        if "filters" in properties:
            properties["filters"] = FILTERS
    for name in ("ClassifyRequest", "ExtractRequest"):
        if name in schemas:
            schemas[name].update(_ONE_SOURCE)


def _complete_operation(operation: dict[str, Any], method: str, handler: Any, path: str) -> None:
    opt = handler.opt
    responses = operation.setdefault("responses", {})
    for status in _statuses(method, opt, path):
        response: dict[str, Any] = {
            "description": _REASONS[status],
            "content": {"application/json": {"schema": ERROR_REF}},
        }
        if status == "429":
            response["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
        responses[status] = response
    if not opt.get("public") and not opt.get("hook"):
        operation["security"] = [{"bearer": []}]
    if path.endswith("/documents") and method == "post":
        operation["requestBody"] = UPLOAD_BODY
    if opt.get("hook"):
        operation["requestBody"] = HOOK_BODY
        operation["parameters"] = [*operation.get("parameters", []), *HOOK_HEADERS]
    if path.endswith("/ask"):
        responses["200"].setdefault("content", {}).update(SSE)
    if path.endswith("/original"):
        responses["200"]["content"] = {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
        }


class ContractJsonPlugin(JsonRenderPlugin):
    """Serves the completed document at /openapi.json (built once, on first request)."""

    def __init__(self) -> None:
        super().__init__()
        self._document: dict[str, Any] | None = None

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        if self._document is None:
            self._document = complete(openapi_schema, request.app)
        return self.render_json(request, self._document)
