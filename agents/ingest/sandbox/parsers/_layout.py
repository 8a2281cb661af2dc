"""Assembling text line by line while recording where sections start."""

from __future__ import annotations

from agents.ingest.sandbox.document import Section


class TextBuilder:
    """Collects lines of a single-page document and the offsets of its headings."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self.sections: list[Section] = []

    def line(self, text: str) -> None:
        """Append one line (a paragraph, a table row...)."""
        if self._parts:
            self._append("\n")
        self._append(text)

    def heading(self, title: str, level: int) -> None:
        """Append a heading line and remember it as a section start."""
        if self._parts:
            self._append("\n\n")
        self.sections.append(Section(title, level, 1, self._length))
        self._append(title)

    def blank(self) -> None:
        """Separate blocks (tables, sheets) by an empty line."""
        if self._parts:
            self._append("\n")

    def text(self) -> str:
        """Everything appended so far, without trailing whitespace."""
        return "".join(self._parts).rstrip()

    def _append(self, piece: str) -> None:
        self._parts.append(piece)
        self._length += len(piece)
