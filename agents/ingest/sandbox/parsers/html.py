"""HTML: the text a browser would show, headings as sections, <title> as metadata."""

from __future__ import annotations

import codecs
import re
from html.parser import HTMLParser

from agents.ingest.sandbox.document import ParsedDocument, single_page
from agents.ingest.sandbox.parsers._layout import TextBuilder
from agents.ingest.sandbox.textcodec import bom_encoding, decode_text, normalise

# Content of these elements is never rendered as text.
_INVISIBLE = {"script", "style", "noscript", "template", "head", "svg", "math", "iframe", "object"}
_VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
    "param", "source", "track", "wbr",
}  # fmt: skip
_BLOCK = {
    "address", "article", "aside", "blockquote", "dd", "details", "dialog", "div", "dl",
    "dt", "fieldset", "figcaption", "figure", "footer", "form", "header", "hr", "li",
    "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tr", "ul", "br",
    "caption", "thead", "tbody", "tfoot",
}  # fmt: skip
_CELLS = {"td", "th"}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


def parse(data: bytes) -> ParsedDocument:
    """Extract the visible text of an HTML page."""
    text, encoding = _decode(data)
    extractor = VisibleText()
    extractor.feed(text)
    extractor.close()
    metadata: dict[str, str | int] = {"encoding": encoding}
    if extractor.title:
        metadata["title"] = extractor.title[:1000]
    return single_page("html", extractor.out.text(), extractor.out.sections, metadata)


def html_to_text(markup: str) -> str:
    """Visible text of an HTML fragment (used for HTML-only mail bodies)."""
    extractor = VisibleText()
    extractor.feed(markup)
    extractor.close()
    return extractor.out.text()


class VisibleText(HTMLParser):
    """Collects rendered text, dropping scripts, styles and explicitly hidden elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out = TextBuilder()
        self.title = ""
        self._hidden: list[str] = []  # open elements whose content is not shown
        self._in_title = False
        self._heading: tuple[int, list[str]] | None = None
        self._pending: list[str] = []  # words of the current line
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Track visibility and block structure."""
        if tag == "title":
            self._in_title = True
            return
        if tag == "body":
            self._hidden.clear()  # an unclosed <head> ends where the body starts
        if tag in _VOID:
            if tag in ("br", "hr") and not self._hidden:
                self._flush()
            return
        if self._hidden or tag in _INVISIBLE or _is_hidden(attrs):
            self._hidden.append(tag)
            return
        if tag in _HEADINGS:
            self._flush()
            self._heading = (_HEADINGS[tag], [])
        elif tag in _BLOCK:
            self._flush()
        elif tag in _CELLS and self._pending:
            self._pending.append("|")
        if tag == "pre":
            self._pre += 1

    def handle_endtag(self, tag: str) -> None:
        """Close hidden elements, headings and blocks."""
        if tag == "title":
            self._in_title = False
            return
        if self._hidden:
            if tag in self._hidden:
                while self._hidden and self._hidden.pop() != tag:
                    pass
            return
        if tag in _HEADINGS and self._heading is not None:
            level, words = self._heading
            self._heading = None
            title = " ".join(" ".join(words).split())
            if title:
                self.out.heading(title, level)
        elif tag in _BLOCK:
            self._flush()
        if tag == "pre" and self._pre:
            self._pre -= 1

    def handle_data(self, data: str) -> None:
        """Keep text that is visible."""
        if self._in_title:
            self.title = " ".join((self.title + " " + data).split())
            return
        if self._hidden:
            return
        if self._heading is not None:
            self._heading[1].append(data)
        elif self._pre:
            lines = data.split("\n")
            for index, line in enumerate(lines):
                if index:
                    self._flush()
                if line.strip():
                    self._pending.append(line.rstrip())
        else:
            self._pending.extend(data.split())

    def close(self) -> None:
        """Finish parsing and flush the last line."""
        super().close()
        self._flush()

    def _flush(self) -> None:
        if self._heading is not None:
            return
        line = " ".join(self._pending).strip(" |")
        self._pending = []
        if line:
            self.out.line(line)


def _is_hidden(attrs: list[tuple[str, str | None]]) -> bool:
    for name, value in attrs:
        if name == "hidden" or (name == "aria-hidden" and value == "true"):
            return True
        if name == "style" and value and _HIDDEN_STYLE.search(value):
            return True
    return False


def _decode(data: bytes) -> tuple[str, str]:
    if bom_encoding(data) is None:
        declared = _META_CHARSET.search(data[:4096])
        if declared:
            name = declared.group(1).decode("ascii").lower()
            # As browsers do (WHATWG encoding spec): these labels mean windows-1252.
            if name in ("iso-8859-1", "latin1", "latin-1", "us-ascii", "ascii"):
                name = "cp1252"
            try:
                codecs.lookup(name)
            except LookupError:
                pass
            else:
                return normalise(data.decode(name, errors="replace")), name
    return decode_text(data)
