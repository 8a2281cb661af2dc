"""Graph checks of a workflow: ids, agents, `needs` references, cycles, templates."""

from collections.abc import Iterator
from typing import Any

from agents.supervisor.source import line_of
from agents.supervisor.templates import Templates, is_template, referenced_steps

Problem = dict[str, Any]


def check_graph(
    data: dict[str, Any], lines: dict[Any, int], agents: set[str], templates: Templates
) -> list[Problem]:
    """Every problem of the step graph; each names the step and its line."""
    problems: list[Problem] = []
    main = data.get("steps") or []
    failure = data.get("on_failure") or []
    main_ids = [s["id"] for s in main]
    seen: set[str] = set()
    for group, steps in (("steps", main), ("on_failure", failure)):
        ids = {s["id"] for s in steps}
        for index, step in enumerate(steps):

            def problem(message: str, *sub: str | int) -> None:
                path = (group, index, *sub)  # noqa: B023 - used at once
                problems.append(
                    {
                        "step": step["id"],  # noqa: B023
                        "line": line_of(lines, path),
                        "field": "/".join(map(str, path)),
                        "message": message,
                    }
                )

            if step["id"] in seen:
                problem(f"the step id {step['id']!r} is used twice", "id")
            seen.add(step["id"])
            if step["agent"] not in agents:
                known = ", ".join(sorted(agents)) or "none"
                problem(f"unknown agent {step['agent']!r} (known: {known})", "agent")
            for need in _needs(step):
                if need not in ids:
                    problem(f"needs unknown step {need!r}", "needs")
        cycle = _cycle({s["id"]: [n for n in _needs(s) if n in ids] for s in steps})
        if cycle:
            index = next(i for i, s in enumerate(steps) if s["id"] == cycle[0])
            problems.append(
                {
                    "step": cycle[0],
                    "line": line_of(lines, (group, index, "needs")),
                    "field": f"{group}/{index}/needs",
                    "message": f"the steps form a cycle: {' -> '.join([*cycle, cycle[0]])}",
                }
            )
    if problems:
        return problems
    ancestors = _ancestors(main)
    failure_ancestors = _ancestors(failure)
    for group, steps in (("steps", main), ("on_failure", failure)):
        for index, step in enumerate(steps):
            if group == "steps":
                visible = ancestors[step["id"]]
            else:
                visible = set(main_ids) | failure_ancestors[step["id"]]
            problems += _check_templates(step, group, index, visible, lines, templates)
    return problems


def _needs(step: dict[str, Any]) -> list[str]:
    needs = step.get("needs") or []
    return [needs] if isinstance(needs, str) else list(needs)


def _cycle(edges: dict[str, list[str]]) -> list[str] | None:
    """One cycle of the `needs` graph as a list of step ids, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in edges.get(node, []):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in edges:
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def _ancestors(steps: list[dict[str, Any]]) -> dict[str, set[str]]:
    needs = {s["id"]: set(_needs(s)) for s in steps}
    result: dict[str, set[str]] = {}

    def of(step_id: str) -> set[str]:
        if step_id not in result:
            found: set[str] = set()
            for need in needs.get(step_id, ()):
                found |= {need} | of(need)
            result[step_id] = found
        return result[step_id]

    for step_id in needs:
        of(step_id)
    return result


def _strings(
    value: Any, path: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))


def _check_templates(
    step: dict[str, Any],
    group: str,
    index: int,
    visible: set[str],
    lines: dict[Any, int],
    templates: Templates,
) -> list[Problem]:
    problems = []
    candidates = list(_strings(step.get("with") or {}, ("with",)))
    for key in ("if", "foreach"):
        if isinstance(step.get(key), str):
            candidates.append(((key,), step[key]))
    for sub, text in candidates:
        expression_field = sub[0] in ("if", "foreach")
        if not (is_template(text) or expression_field):
            continue
        path = (group, index, *sub)
        source = text if is_template(text) else "{{ " + text + " }}"
        message = templates.check(source)
        if message is None:
            unknown = sorted(referenced_steps(text) - visible)
            if unknown:
                message = (
                    f"refers to step {unknown[0]!r}, which is not a step it needs "
                    "(directly or through other steps)"
                )
        if message:
            problems.append(
                {
                    "step": step["id"],
                    "line": line_of(lines, path),
                    "field": "/".join(map(str, path)),
                    "message": message,
                }
            )
    return problems
