"""Rendering a connector's templates (subject, text, HTML, JSON body) in Jinja2's sandbox.

Templates come from tenant users, so they run in `SandboxedEnvironment` (no attribute
access to internals, no imports); HTML templates autoescape. Undefined names render
as errors, not as empty strings, so a typo is reported instead of sending a blank mail.
"""

from __future__ import annotations

import json
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from agents.act.errors import ActionConfigError

_TEXT = SandboxedEnvironment(autoescape=False, undefined=StrictUndefined)
_HTML = SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)


def render(template: str, context: dict[str, Any], *, html: bool = False) -> str:
    """`template` rendered over `context`; ActionConfigError says what is wrong."""
    try:
        return (_HTML if html else _TEXT).from_string(template).render(context)
    except TemplateError as error:
        raise ActionConfigError(f"The template cannot be rendered: {error}"[:500]) from error


def render_json(template: str, context: dict[str, Any]) -> Any:
    """A JSON body template rendered and parsed (values are JSON-encoded with `tojson`)."""
    text = render(template, context)
    try:
        return json.loads(text)
    except ValueError as error:
        raise ActionConfigError(f"The body template does not render to JSON: {error}") from error
