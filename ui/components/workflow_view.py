"""Pictures and plain words for workflows: a mermaid graph of the steps, outputs as text."""

import json
import re
from typing import Any

_UNSAFE = re.compile(r"[^A-Za-z0-9_]")
STATUS_COLORS = {
    "queued": "grey-7",
    "running": "primary",
    "waiting": "purple",
    "succeeded": "positive",
    "failed": "negative",
    "cancelled": "orange",
    "skipped": "grey-5",
}
STATUS_ICONS = {
    "queued": "schedule",
    "running": "autorenew",
    "waiting": "hourglass_empty",
    "succeeded": "check_circle",
    "failed": "error",
    "cancelled": "cancel",
    "skipped": "redo",
}


def _node(step_id: str) -> str:
    return "s_" + _UNSAFE.sub("_", step_id)


def _label(text: str) -> str:
    return text.replace('"', "'")[:60]


def mermaid_graph(definition: dict[str, Any], statuses: dict[str, str] | None = None) -> str:
    """A mermaid flowchart: one box per step (agent under its id), arrows for `needs`."""
    lines = ["graph TD"]
    for group in ("steps", "on_failure"):
        for step in definition.get(group) or []:
            extra = " (if)" if step.get("if") is not None else ""
            extra += " (each)" if step.get("foreach") is not None else ""
            lines.append(
                f'  {_node(step["id"])}["{_label(step["id"])}<br/>{_label(step["agent"])}{extra}"]'
            )
            needs = step.get("needs") or []
            for need in [needs] if isinstance(needs, str) else needs:
                lines.append(f"  {_node(need)} --> {_node(step['id'])}")
        if group == "on_failure" and definition.get("on_failure"):
            for step in definition["on_failure"]:
                lines.append(f"  {_node(step['id'])}:::failure")
    if definition.get("on_failure"):
        lines.append("  classDef failure stroke-dasharray: 4 4")
    for step_id, status in (statuses or {}).items():
        lines.append(f"  class {_node(step_id)} st_{status}")
    if statuses:
        colors = {
            "succeeded": "#c8e6c9",
            "failed": "#ffcdd2",
            "running": "#bbdefb",
            "skipped": "#eeeeee",
            "cancelled": "#ffe0b2",
            "waiting": "#e1bee7",
        }
        lines += [f"  classDef st_{k} fill:{v}" for k, v in colors.items()]
    return "\n".join(lines)


def trigger_words(triggers: list[dict[str, Any]]) -> str:
    """How a workflow starts, in plain words."""
    if not triggers:
        return "started by hand"
    parts = []
    for trigger in triggers:
        kind = trigger.get("type")
        if kind == "document":
            where = trigger.get("source") or "any source"
            where = ", ".join(where) if isinstance(where, list) else where
            name = f" named {trigger['filename']}" if trigger.get("filename") else ""
            parts.append(f"a document from {where}{name}")
        elif kind == "schedule":
            parts.append(f"schedule {trigger.get('cron')} ({trigger.get('timezone', 'UTC')})")
        elif kind == "hook":
            parts.append(f"hook {trigger.get('hook') or 'any'}")
        else:
            parts.append(str(kind))
    return "; ".join(parts)


def output_words(output: Any, limit: int = 1200) -> str:
    """A step's output as short readable lines (`key: value`), not raw JSON."""
    if output is None:
        return ""
    if isinstance(output, dict):
        lines = []
        for key, value in output.items():
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            lines.append(f"{key}: {shown}")
        text = "\n".join(lines)
    else:
        text = json.dumps(output, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + " …"


ERROR_WORDS = {
    "template_error": "A value in the step's settings could not be filled in",
    "too_many_items": "The step was asked to repeat for too many items",
    "timeout": "The step took longer than it is allowed to",
    "run_timeout": "The run took longer than it is allowed to",
    "worker_lost": "The appliance stopped while the step was running",
    "step_exception": "The step broke unexpectedly",
    "invalid_params": "The step's settings are not valid",
    "unknown_agent": "This appliance has no such step type",
}


def error_words(error: dict[str, Any] | None) -> str:
    """An error as a sentence people can act on, with the technical reason after it."""
    if not error:
        return ""
    lead = ERROR_WORDS.get(error.get("code") or "", "The step failed")
    return f"{lead}: {error.get('message') or error.get('code')}"
