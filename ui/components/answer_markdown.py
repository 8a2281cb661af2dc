"""An answer's text as safe markdown, with its [n] citation markers shown as markers.

Answers are model output over document text: any HTML in them is escaped here, so it
shows as text and never as markup (NiceGUI's markdown element also passes its HTML
through DOMPurify in the browser). The only markup added is ours: each `[n]` that names
one of the answer's citations becomes a small superscript marker carrying the number,
so the text and the citation chips below it read as one. Markers that name no citation
(a draft still streaming, a number the model invented) stay plain text.
"""

import html
import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any

_MARKER = re.compile(r"\[(\d{1,3})\]")


def as_markdown(answer: str, cited: Collection[int] = ()) -> str:
    """Markdown source for an answer: HTML escaped, markers in `cited` highlighted."""
    escaped = html.escape(answer, quote=False)
    if not cited:
        return escaped

    def marker(match: re.Match[str]) -> str:
        number = int(match.group(1))
        if number not in cited:
            return match.group(0)
        return (
            f'<sup class="answer-cite text-primary font-medium" data-cite="{number}">'
            f"[{number}]</sup>"
        )

    return _MARKER.sub(marker, escaped)


def cited_numbers(citations: Iterable[Mapping[str, Any]]) -> set[int]:
    """The citation numbers an answer's markers may name."""
    numbers = set()
    for cited in citations:
        try:
            numbers.add(int(cited.get("number") or 0))
        except (TypeError, ValueError):
            continue
    numbers.discard(0)
    return numbers


def unique_citations(citations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One chip per document page, in the answer's order (first use first): the
    answerer numbers citations by first use, so ordering by number is ordering by use."""
    seen: set[tuple[str, int]] = set()
    out = []
    ordered = sorted(citations, key=lambda c: _number(c.get("number")))
    for cited in ordered:
        key = (str(cited.get("document_id")), int(cited.get("page") or 1))
        if key not in seen:
            seen.add(key)
            out.append(cited)
    return out


def _number(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 1_000_000  # unnumbered citations go last
