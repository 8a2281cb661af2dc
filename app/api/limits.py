"""Limits on what a request may hold, each declared once and enforced by the same code.

- JSON bodies: nesting depth (`MAX_JSON_DEPTH`), checked before any decoder recurses
  (`LimitedRequest`, and the handlers that decode raw bodies themselves); 400.
- Text fields people give names with (tenant slug and display name, API key and
  connector names): a length and a set of characters (`TextRule`); 422 naming the field.
  The rule also writes the field's `maxLength`/`pattern` into the OpenAPI schema.
- Request line and headers (`MAX_URL_BYTES`, `MAX_HEAD_BYTES`, `MAX_HEADERS`): enforced by
  the HTTP protocol (app/api/http_limits.py) and the ASGI entry (app/server.py); 414/431.
"""

import re
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
import numpy as np
from litestar import Request
from litestar.exceptions import ValidationException

from app.errors import AppError

MAX_JSON_DEPTH = 32
MAX_URL_BYTES = 8 * 1024
MAX_HEAD_BYTES = 64 * 1024
MAX_HEADERS = 100
MAX_NAME_CHARS = 200

# C0 and C1 controls (NUL, ESC, newline, ...), the bidirectional controls that make text
# display in another order than it is stored, and the line/paragraph separators
_FORBIDDEN = (
    "\\x00-\\x1f\\x7f-\\x9f\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069"
)
NAME_PATTERN = f"^[^{_FORBIDDEN}]+$"
SLUG_PATTERN = "^[a-z0-9][a-z0-9-]{0,62}$"

# a short free-text field (user names, expiry specs, ids): 400 past the length
Bounded = Annotated[str, msgspec.Meta(max_length=MAX_NAME_CHARS)]
# an id in a body (document ids and the like)
Identifier = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NAME_CHARS)]

_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class JsonTooDeep(AppError):
    status_code = 400
    code = "json_too_deep"


class InvalidText(AppError):
    status_code = 422
    code = "invalid_text"


def check_json_depth(body: bytes, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse JSON nested deeper than `limit` arrays/objects (400), without decoding it.

    A body with fewer brackets than the limit cannot be too deep (two C-speed counts);
    otherwise strings are cut out and the running depth of the remaining brackets is a
    cumulative sum, so even a body of a million brackets is checked in milliseconds.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return
    brackets = _STRINGS.sub(b"", body).translate(None, _NOT_BRACKETS)
    codes = np.frombuffer(brackets, dtype=np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1).astype(np.int32)
    if steps.size and int(np.cumsum(steps).max()) > limit:
        raise JsonTooDeep(f"the JSON body is nested deeper than {limit} levels")


class LimitedRequest(Request[Any, Any, Any]):
    """Litestar's request whose JSON is checked for depth before it is decoded, and
    against the handler's body type without type coercion: Litestar converts bodies
    leniently (0 for false, "5" for 5), which would take data the schema refuses."""

    async def json(self) -> Any:
        body = await self.body()
        check_json_depth(body)
        body_type = _body_type(self.route_handler)
        if body_type is not None and body:
            _check_strictly(body, body_type)
        return await super().json()


def _check_strictly(body: bytes, body_type: Any) -> None:
    try:
        msgspec.json.decode(body, type=body_type, strict=True)
    except msgspec.ValidationError as exc:  # a subclass of DecodeError: first
        if "got `float`" not in str(exc):
            raise ValidationException(f"invalid request body: {exc}") from exc
        # JSON Schema counts 10.0 as an integer; msgspec's strict mode does not
        try:
            msgspec.convert(_integral(msgspec.json.decode(body)), body_type, strict=True)
        except msgspec.ValidationError as again:
            raise ValidationException(f"invalid request body: {again}") from again
    except msgspec.DecodeError:
        return  # Litestar's own decoding reports malformed JSON


def _integral(value: Any) -> Any:
    """`value` with every float that is a whole number turned into an int."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integral(item) for item in value]
    if isinstance(value, dict):
        return {key: _integral(item) for key, item in value.items()}
    return value


_NO_TYPE = object()
_BODY_TYPES: dict[Any, Any] = {}


def _body_type(handler: Any) -> Any:
    """The type of a handler's `data` parameter (None without one), once per handler
    function. Keyed by the function itself, not by an id: a controller method's bound
    `fn` is a new object per app, and a reused id gave one route another's body type."""
    key = getattr(handler.fn, "__func__", handler.fn)
    found = _BODY_TYPES.get(key, _NO_TYPE)
    if found is _NO_TYPE:
        field = handler.parsed_fn_signature.parameters.get("data")
        found = None
        if field is not None:
            try:
                msgspec.json.Decoder(field.annotation)
                found = field.annotation
            except (TypeError, ValueError):
                found = None
        _BODY_TYPES[key] = found
    return found


@dataclass(frozen=True)
class TextRule:
    """What a name-like text field may hold: 1..max_chars characters, none forbidden."""

    max_chars: int = MAX_NAME_CHARS
    pattern: str = NAME_PATTERN
    hint: str = "must not contain control characters, bidirectional controls or line separators"

    def schema(self) -> msgspec.Meta:
        """The OpenAPI declaration of the rule (checked by `check`, not by msgspec, so a
        violation is a 422 that names the field)."""
        return msgspec.Meta(
            extra_json_schema={
                "extra": {"minLength": 1, "maxLength": self.max_chars, "pattern": self.pattern}
            }
        )

    def check(self, field: str, value: str | None) -> None:
        """Raise InvalidText (422) naming `field` if `value` breaks the rule."""
        if value is None:
            return
        if not value:
            raise InvalidText(f"'{field}' must not be empty")
        if len(value) > self.max_chars:
            raise InvalidText(f"'{field}' is longer than {self.max_chars} characters")
        if not re.fullmatch(self.pattern, value):
            raise InvalidText(f"'{field}' {self._what()}")

    def _what(self) -> str:
        return self.hint


NAME = TextRule()
SLUG = TextRule(
    max_chars=63,
    pattern=SLUG_PATTERN,
    hint="must be 1-63 lowercase letters, digits or '-', starting with a letter or digit",
)
KEY_NAME = TextRule(max_chars=100)  # app/auth/key_issuing.py MAX_NAME
# an API key's lifetime: a positive count (at most six digits) and a unit
EXPIRES = TextRule(
    max_chars=20,
    pattern="^ *0*[1-9][0-9]{0,5} *[mhdw] *$",
    hint="must be a positive number (at most 6 digits) with a unit m, h, d or w (e.g. 90d)",
)
