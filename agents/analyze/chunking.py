"""Splitting page texts into chunks measured in the embedding model's own tokens.

Chunks never cross a page or a heading. Whole paragraphs are packed while they fit;
a paragraph that does not fit is split into sentences, and a sentence that does not
fit into token windows cut at word starts. A chunk that continues the text of the
one before starts up to `overlap_tokens` earlier (at a sentence start when there is
one in reach, else at a word start), so a fact cut by a boundary is whole in one chunk.

Every chunk's text is exactly `page_text[char_start:char_end]`, and the same pages
always give the same chunks.
"""

import bisect
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

from agents.analyze.embedding import max_seq_length, transformer_dir

HeadingMode = Literal["auto", "markdown", "none"]

_MARKDOWN_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$")
_NUMBERED = re.compile(r"^(\d+(\.\d+)*\.?|[IVXLC]+\.|[A-Z]\.)\s+\S")
# a sentence ends at . ! ? or … (and one closing quote or bracket) followed by space, or
# at a line break (hard-wrapped or listed text); a match is the gap between sentences
_SENTENCE_GAP = re.compile(r"(?:(?<=[.!?\u2026])|(?<=[.!?\u2026][\"'\u201d\u2019)\]]))\s+|\s*\n\s*")
_BULLETS = "-*>|([\u2022\u2013\u2014"  # list markers, quotes and brackets open no heading
_TITLE_MAX_CHARS = 80
_TITLE_MAX_WORDS = 12
_WRAP_RATIO = 0.75


class Page(NamedTuple):
    """One page of extracted text; plain `(number, text)` tuples work too."""

    number: int
    text: str


@dataclass(frozen=True)
class Chunk:
    """A piece of one page: `text == page_text[char_start:char_end]`.

    `position` is the ordinal within the document; `token_count` counts the embedding
    model's tokens without its special tokens; `heading` is the nearest heading above.
    """

    position: int
    page: int
    char_start: int
    char_end: int
    heading: str | None
    token_count: int
    text: str


class Chunker:
    """Chunks pages with the tokenizer of a sentence-transformers model directory."""

    def __init__(
        self,
        model_path: Path,
        *,
        max_tokens: int = 256,
        overlap_tokens: int = 32,
        headings: HeadingMode = "auto",
    ) -> None:
        if max_tokens < 16:
            raise ValueError("max_tokens must be at least 16")
        if not 0 <= overlap_tokens <= max_tokens // 2:
            raise ValueError("overlap_tokens must be between 0 and half of max_tokens")
        self.model_path = model_path
        # the model reads at most max_seq_length positions, its special tokens included
        self.max_tokens = min(max_tokens, max_seq_length(model_path))
        self.overlap_tokens = overlap_tokens
        self.headings = headings
        self._tokenizer: Any = None
        self._special_tokens = 0
        self._lock = threading.Lock()

    @property
    def budget(self) -> int:
        """Most content tokens in one chunk (max_tokens less the model's special tokens)."""
        self._load()
        return self.max_tokens - self._special_tokens

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` for the embedding model, without special tokens."""
        return len(self._load().encode(text, add_special_tokens=False).ids)

    def chunk(self, pages: Iterable[Page | tuple[int, str]]) -> list[Chunk]:
        """Chunks of all pages in reading order; empty pages give none."""
        tokenizer = self._load()
        budget = self.budget
        chunks: list[Chunk] = []
        heading: str | None = None  # a heading stays in force across page breaks
        for number, text in pages:
            tokens = _PageTokens(text, tokenizer.encode(text, add_special_tokens=False).offsets)
            for section_heading, blocks in _sections(text, self.headings):
                heading = section_heading or heading
                for start, end in _pack(text, tokens, blocks, budget, self.overlap_tokens):
                    count = tokens.count(start, end)
                    if count == 0:
                        continue  # only characters the tokenizer drops: nothing to embed
                    chunks.append(
                        Chunk(
                            position=len(chunks),
                            page=int(number),
                            char_start=start,
                            char_end=end,
                            heading=heading,
                            token_count=count,
                            text=text[start:end],
                        )
                    )
        return chunks

    def _load(self) -> Any:
        with self._lock:
            if self._tokenizer is None:
                tokenizer = _load_tokenizer(transformer_dir(self.model_path))
                # tokenizer.json may carry padding/truncation for training; chunking needs
                # every real token, and encode() must not change shared state afterwards
                tokenizer.no_padding()
                tokenizer.no_truncation()
                self._special_tokens = int(tokenizer.num_special_tokens_to_add(False))
                self._tokenizer = tokenizer
            return self._tokenizer


def _load_tokenizer(folder: Path) -> Any:
    """The fast tokenizer of a model folder. From tokenizer.json with the `tokenizers`
    library when present: importing transformers would also import torch (hundreds of
    MB) just to count tokens. Otherwise transformers converts the slow vocabulary."""
    if (folder / "tokenizer.json").exists():
        from tokenizers import Tokenizer

        return Tokenizer.from_file(str(folder / "tokenizer.json"))
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(folder), local_files_only=True).backend_tokenizer


class _PageTokens:
    """Token character spans of one page, for counting tokens inside any span."""

    def __init__(self, text: str, offsets: list[tuple[int, int]]) -> None:
        self.text = text
        self.starts = [start for start, _ in offsets]
        self.ends = [end for _, end in offsets]

    def count(self, start: int, end: int) -> int:
        return max(0, bisect.bisect_right(self.ends, end) - bisect.bisect_left(self.starts, start))

    def first(self, start: int) -> int:
        """Index of the first token at or after character `start`."""
        return bisect.bisect_left(self.starts, start)

    def word_start(self, index: int) -> bool:
        """True when token `index` begins a word, so cutting before it splits no word."""
        start = self.starts[index]
        return start == 0 or self.text[start - 1].isspace()


def _sections(text: str, mode: HeadingMode) -> list[tuple[str | None, list[tuple[int, int]]]]:
    """(heading, block spans) per section; a heading's own line opens its section."""
    sections: list[tuple[str | None, list[tuple[int, int]]]] = []
    has_text = False  # whether the last section holds more than heading lines
    for start, end, heading in _blocks(text, mode):
        if heading is not None and sections and not has_text:
            # consecutive headings (chapter, then section) open one section together
            sections[-1] = (heading, [*sections[-1][1], (start, end)])
        elif heading is not None or not sections:
            sections.append((heading, [(start, end)]))
            has_text = heading is None
        else:
            sections[-1][1].append((start, end))
            has_text = True
    return sections


def _blocks(text: str, mode: HeadingMode) -> list[tuple[int, int, str | None]]:
    """Paragraph spans, with heading lines split out and their heading text attached.

    A markdown heading counts on any line; a title-like line only as a paragraph of its
    own or as the first line of one (the usual shape of extracted PDF text).
    """
    blocks: list[tuple[int, int, str | None]] = []
    for para_start, para_end in _paragraphs(text):
        lines = _lines(text, para_start, para_end)
        pending = para_start
        for i, (line_start, line_end) in enumerate(lines):
            line = text[line_start:line_end]
            if i == 0:
                below = text[lines[1][0] : lines[1][1]] if len(lines) > 1 else None
                heading = _heading_text(line, mode, below)
            else:
                heading = _heading_text(line, "markdown" if mode == "auto" else mode, None)
            if heading:
                if pending < line_start:
                    blocks.append((*_trim(text, pending, line_start), None))
                blocks.append((line_start, line_end, heading))
                pending = lines[i + 1][0] if i + 1 < len(lines) else para_end
        if pending < para_end:
            blocks.append((pending, para_end, None))
    return blocks


def _paragraphs(text: str) -> list[tuple[int, int]]:
    """Trimmed spans between blank lines."""
    spans = []
    cursor = 0
    for gap in re.finditer(r"\n[^\S\n]*\n\s*", text):
        spans.append(_trim(text, cursor, gap.start()))
        cursor = gap.end()
    spans.append(_trim(text, cursor, len(text)))
    return [(start, end) for start, end in spans if start < end]


def _lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Trimmed, non-blank line spans inside [start, end)."""
    lines = []
    cursor = start
    while cursor < end:
        stop = text.find("\n", cursor, end)
        stop = end if stop < 0 else stop
        left, right = _trim(text, cursor, stop)
        if left < right:
            lines.append((left, right))
        cursor = stop + 1
    return lines


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _heading_text(line: str, mode: HeadingMode, next_line: str | None) -> str | None:
    """The heading a line stands for, or None: markdown `#` lines, or short title lines.

    `next_line` is the line below within the same paragraph (None when the line stands
    alone); title-like lines are only considered in "auto" mode.
    """
    if mode == "none":
        return None
    markdown = _MARKDOWN_HEADING.match(line)
    if markdown:
        return markdown.group(1)
    if mode != "auto" or not _title_like(line, next_line):
        return None
    return line


def _title_like(line: str, next_line: str | None) -> bool:
    """Short, unpunctuated, capitalised or numbered, and not the start of a wrapped
    paragraph (the first line of hard-wrapped text is about as long as the next)."""
    words = line.split()
    if not words or len(line) > _TITLE_MAX_CHARS or len(words) > _TITLE_MAX_WORDS:
        return False
    if line[0] in _BULLETS or "://" in line or not any(c.isalpha() for c in line):
        return False
    numbered = _NUMBERED.match(line) is not None
    # "2. Basic Permissions." is a heading; other lines ending like sentences are not
    if line[-1] in ",;!" or (line[-1] == "." and not (numbered and next_line is None)):
        return False
    shouting = line.upper() == line and sum(c.isalpha() for c in line) > 2
    if next_line is None:
        return numbered or shouting or line[0].isupper()
    if shouting:
        return next_line.upper() != next_line  # an all-capitals paragraph is no heading
    long_words = [w for w in words if len(w) > 3]
    capitalised = sum(w[0].isupper() for w in long_words) >= 0.6 * len(long_words)
    titled = line[0].isupper() and bool(long_words) and capitalised
    return (numbered or titled) and len(line) <= _WRAP_RATIO * len(next_line)


def _pack(
    text: str, tokens: _PageTokens, blocks: list[tuple[int, int]], budget: int, overlap: int
) -> list[tuple[int, int]]:
    """Chunk spans for one section: pieces packed greedily, then overlap added."""
    pieces = _pieces(text, tokens, blocks, budget, budget - overlap)
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(pieces):
        start, end = pieces[i]
        earlier = _overlap_start(text, tokens, spans[-1], overlap) if spans else None
        if earlier is not None and tokens.count(earlier, end) <= budget:
            start = earlier
        i += 1
        while i < len(pieces) and tokens.count(start, pieces[i][1]) <= budget:
            end = pieces[i][1]
            i += 1
        spans.append((start, end))
    return spans


def _pieces(
    text: str, tokens: _PageTokens, blocks: list[tuple[int, int]], budget: int, window: int
) -> list[tuple[int, int]]:
    """Blocks that fit the budget, else their sentences, else token windows of them."""
    pieces: list[tuple[int, int]] = []
    for start, end in blocks:
        if tokens.count(start, end) <= budget:
            pieces.append((start, end))
            continue
        for sent_start, sent_end in _sentences(text, start, end):
            if tokens.count(sent_start, sent_end) <= budget:
                pieces.append((sent_start, sent_end))
            else:
                pieces.extend(_windows(tokens, sent_start, sent_end, window))
    return pieces


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    cursor = start
    for gap in _SENTENCE_GAP.finditer(text, start, end):
        if gap.start() > cursor:
            spans.append((cursor, gap.start()))
        cursor = gap.end()
    if cursor < end:
        spans.append((cursor, end))
    return spans


def _windows(tokens: _PageTokens, start: int, end: int, size: int) -> list[tuple[int, int]]:
    """Spans of at most `size` tokens, cut before a word start when one is in reach."""
    first, last = tokens.first(start), tokens.first(end)  # token indices [first, last)
    while last > first and tokens.ends[last - 1] > end:
        last -= 1
    spans = []
    while first < last:
        stop = min(first + size, last)
        if stop < last:
            cut = next((k for k in range(stop, first, -1) if tokens.word_start(k)), stop)
            stop = cut
        spans.append((tokens.starts[first], tokens.ends[stop - 1]))
        first = stop
    return spans


def _overlap_start(
    text: str, tokens: _PageTokens, previous: tuple[int, int], overlap: int
) -> int | None:
    """Where the next chunk starts so it repeats the end of `previous` (at most `overlap`
    tokens and at most half of it): the earliest sentence start in reach, else the
    earliest word start, else None (no overlap)."""
    prev_start, prev_end = previous
    first, last = tokens.first(prev_start), tokens.first(prev_end)
    while last > first and tokens.ends[last - 1] > prev_end:
        last -= 1
    reach = min(overlap, (last - first) // 2)
    candidates = range(last - reach, last)
    for k in candidates:
        if _starts_sentence(text, tokens.starts[k], prev_start):
            return tokens.starts[k]
    for k in candidates:
        if tokens.word_start(k):
            return tokens.starts[k]
    return None


def _starts_sentence(text: str, position: int, floor: int) -> bool:
    """True when only whitespace after . ! ? … or a line break precedes `position`."""
    j = position - 1
    newline = False
    while j >= floor and text[j].isspace():
        newline = newline or text[j] == "\n"
        j -= 1
    return newline or (j >= floor and text[j] in ".!?…")
