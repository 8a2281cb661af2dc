"""Sandboxed Jinja2 templates of step parameters and conditions.

A string holding only one expression (`"{{ steps.x.output.items }}"`) renders to the
expression's own value (a list stays a list); any other string with template syntax
renders to text. Undefined names raise (`StrictUndefined`); rendered values are bounded.
"""

import json
import re
import threading
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from agents.supervisor.step import StepError

_SINGLE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>.*)\}\}\s*$", re.DOTALL)
_STEP_REFERENCE = re.compile(r"\bsteps\s*(?:\.\s*(\w+)|\[\s*['\"](\w+)['\"]\s*\])")


class _DataEnvironment(SandboxedEnvironment):
    """`a.b` on a mapping means its key `b` first (so `steps.items`, `output.keys` work)."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, dict) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


class TemplateFailure(StepError):
    """A template could not be rendered (undefined name, sandbox refusal, too large)."""

    code = "template_error"
    retryable = False


def is_template(value: str) -> bool:
    return "{{" in value or "{%" in value


def referenced_steps(value: str) -> set[str]:
    """Step ids a template mentions as `steps.<id>` or `steps['<id>']`."""
    return {a or b for a, b in _STEP_REFERENCE.findall(value)}


class Templates:
    """Compiles (and caches) templates in one sandboxed environment."""

    def __init__(self, max_chars: int = 200_000) -> None:
        self.max_chars = max_chars
        self._env = _DataEnvironment(undefined=StrictUndefined, autoescape=False)
        self._cache: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def check(self, value: str) -> str | None:
        """The syntax error of `value` as a message, or None when it compiles."""
        try:
            expression = self._expression(value)
            if expression is not None:
                self._compiled(expression, "expression")
            else:
                self._compiled(value, "template")
        except TemplateError as exc:
            return f"template error: {exc}"
        return None

    def render(self, value: Any, context: dict[str, Any]) -> Any:
        """`value` with every template string inside it rendered over `context`."""
        if isinstance(value, str):
            return self._render_text(value, context) if is_template(value) else value
        if isinstance(value, dict):
            return {k: self.render(v, context) for k, v in value.items()}
        if isinstance(value, list):
            return [self.render(v, context) for v in value]
        return value

    def evaluate(self, value: Any, context: dict[str, Any], *, bounded: bool = True) -> Any:
        """The value of an expression, with or without `{{ }}` around it (if, foreach).

        `bounded=False` leaves the size check to the caller (foreach counts items first).
        """
        if not isinstance(value, str):
            return value
        expression = self._expression(value)
        source = expression if expression is not None else value
        return self._run("expression", source, context, bounded=bounded)

    def truthy(self, value: Any, context: dict[str, Any]) -> bool:
        result = self.evaluate(value, context)
        if isinstance(result, str):
            return result.strip().lower() not in ("", "false", "no", "0", "none", "null")
        return bool(result)

    def _render_text(self, value: str, context: dict[str, Any]) -> Any:
        expression = self._expression(value)
        if expression is not None:
            return self._run("expression", expression, context)
        return self._run("template", value, context)

    @staticmethod
    def _expression(value: str) -> str | None:
        match = _SINGLE_EXPRESSION.match(value)
        if match is None or "{{" in match.group("expr") or "}}" in match.group("expr"):
            return None
        return match.group("expr")

    def _compiled(self, source: str, kind: str) -> Any:
        key = (kind, source)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        compiled: Any
        if kind == "expression":
            compiled = self._env.compile_expression(source, undefined_to_none=False)
        else:
            compiled = self._env.from_string(source)
        with self._lock:
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[key] = compiled
        return compiled

    def _run(self, kind: str, source: str, context: dict[str, Any], bounded: bool = True) -> Any:
        try:
            compiled = self._compiled(source, kind)
            result = compiled(**context) if kind == "expression" else compiled.render(context)
            if isinstance(result, StrictUndefined):
                str(result)  # raises UndefinedError with the missing name
        except TemplateError as exc:
            raise TemplateFailure(f"template error: {exc}") from exc
        except (ArithmeticError, TypeError, ValueError, LookupError) as exc:
            raise TemplateFailure(f"template error: {type(exc).__name__}: {exc}") from exc
        if bounded:
            self.check_size(result)
        return result

    def check_size(self, result: Any) -> None:
        if isinstance(result, str):
            size = len(result)
        else:
            try:
                size = len(json.dumps(result, default=str))
            except (TypeError, ValueError) as exc:
                raise TemplateFailure("template error: the value is not JSON") from exc
        if size > self.max_chars:
            raise TemplateFailure(
                f"template error: the rendered value has {size} characters, "
                f"over the limit of {self.max_chars}"
            )
