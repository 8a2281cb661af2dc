"""Report templates: the built-in ones shipped in `builtin/`, and each tenant's own
(the `report_templates` table). A tenant template may not take a built-in id."""

import json
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from agents.report.dataset import check_fields
from agents.report.errors import InvalidTemplateError, TemplateConflictError, UnknownTemplateError
from agents.report.sources import declared
from agents.report.template import Template, parse_template
from storage.clock import now_iso
from storage.database import Database

# sources whose fields are known without data: templates over them are checked when added
_STATIC_SOURCES = frozenset({"documents", "summary", "activity", "ask"})
MAX_TEMPLATE_CHARS = 200_000


def decode_template(text: str) -> Any:
    """A template's YAML or JSON text, decoded (YAML is a superset of JSON)."""
    if len(text) > MAX_TEMPLATE_CHARS:
        raise InvalidTemplateError(f"a template is at most {MAX_TEMPLATE_CHARS:,} characters")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise InvalidTemplateError(f"the template is not valid YAML or JSON{where}") from None


@lru_cache(maxsize=1)
def builtin_templates() -> dict[str, Template]:
    """The templates shipped with the appliance, by id (read once per process)."""
    found: dict[str, Template] = {}
    for entry in sorted(resources.files("agents.report.builtin").iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".yaml", ".yml", ".json")):
            template = parse_template(decode_template(entry.read_text("utf-8")), builtin=True)
            found[template.id] = template
    return found


def check_template(template: Template) -> None:
    """Refuse a template whose references its source cannot satisfy (default parameters)."""
    if template.data.source not in _STATIC_SOURCES:
        return
    defaults = {p.name: p.default for p in template.parameters}
    check_fields(template, declared(template, defaults))


class TemplateCatalog:
    """Built-in templates plus those of one tenant database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def templates(self) -> list[Template]:
        with self.db.read() as conn:
            rows = conn.execute("SELECT definition FROM report_templates ORDER BY id").fetchall()
        return [*builtin_templates().values(), *(parse_template(json.loads(r[0])) for r in rows)]

    def get(self, template_id: str) -> Template:
        builtin = builtin_templates().get(template_id)
        if builtin is not None:
            return builtin
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT definition FROM report_templates WHERE id = ?", (template_id,)
            ).fetchone()
        if row is None:
            raise UnknownTemplateError(f"no report template {template_id!r}")
        return parse_template(json.loads(row[0]))

    def add(self, definition: Any, created_by: str) -> Template:
        """Validate and store a tenant template; 409 if the id is taken."""
        template = parse_template(definition)
        if template.id in builtin_templates():
            raise TemplateConflictError(f"{template.id!r} is a built-in template id")
        check_template(template)
        now = now_iso()
        with self.db.write() as conn:
            taken = conn.execute(
                "SELECT 1 FROM report_templates WHERE id = ?", (template.id,)
            ).fetchone()
            if taken:
                raise TemplateConflictError(f"a template {template.id!r} exists already")
            conn.execute(
                "INSERT INTO report_templates (id, title, definition, created_by, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    template.id,
                    template.title,
                    json.dumps(definition, default=str),
                    created_by,
                    now,
                    now,
                ),
            )
        return template
