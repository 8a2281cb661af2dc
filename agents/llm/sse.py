"""Reading Server-Sent Events (the streaming format of OpenAI-compatible servers)."""

from collections.abc import Iterable, Iterator


def iter_sse_data(lines: Iterable[str]) -> Iterator[str]:
    """The `data` payload of each event; multi-line data is joined with newlines.

    Comments (":" lines), `event:`/`id:`/`retry:` fields and empty events are skipped,
    as the SSE specification asks.
    """
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if field == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        yield "\n".join(data)
