"""Reading a workflow's text (YAML or JSON) into data plus the line of every node."""

import json
from typing import Any

import yaml

from agents.supervisor.errors import DefinitionError

Path = tuple[str | int, ...]
MAX_SOURCE_CHARS = 512 * 1024


def parse_source(text: str) -> tuple[Any, dict[Path, int]]:
    """The document's data and a map from each node's path to its 1-based line.

    JSON is read as YAML (a JSON document is valid YAML here), so both get lines.
    """
    if len(text) > MAX_SOURCE_CHARS:
        raise DefinitionError(
            [{"message": f"the definition is over {MAX_SOURCE_CHARS} characters"}]
        )
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or "not valid YAML"
        raise DefinitionError([{"line": line, "message": f"invalid YAML: {problem}"}]) from exc
    except yaml.YAMLError as exc:
        raise DefinitionError([{"message": "invalid YAML"}]) from exc
    lines: dict[Path, int] = {}
    if node is not None:
        _collect_lines(node, (), lines)
    return data, lines


def _collect_lines(node: yaml.Node, path: Path, lines: dict[Path, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                _collect_lines(value, (*path, str(key.value)), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _collect_lines(item, (*path, index), lines)


def line_of(lines: dict[Path, int], path: Path) -> int | None:
    """The line of `path`, or of its nearest ancestor that has one."""
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())


def dump_source(data: dict[str, Any], fmt: str = "yaml") -> str:
    """Text for a definition held as data (export, JSON bodies without a source)."""
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
