"""Keeping generated answers tied to their passages.

A small model writes fluent sentences the passages do not say, forgets its `[n]`
markers, and repeats itself. Here, without another model call:

- `LoopGuard` watches the streamed words and says when the answer starts repeating a
  run of words it has already written (generation is stopped there);
- `ground` checks each sentence of the finished answer against the passages (share of
  its content words found in a passage), keeps a marker that points at a supporting
  passage, moves or adds one that does not, and reports sentences no passage supports;
- `adds_nothing` tells an answer that only restates the question (a small model's
  habit), which gets the fallback too;
- `extractive_answer` builds the fallback: the passage sentences that share most
  words with the question, quoted, each with its marker;
- `renumber` orders citations by first use and merges passages of the same page, so
  every `[n]` still maps to `citations[n-1]`.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

_WORD = re.compile(r"[^\W_]+(?:[_'][^\W_]+)*|\w+", re.UNICODE)
_MARKER = re.compile(r"\s*\[(\d{1,3})\]")
_SENTENCE_END = re.compile(r"(?<!e\.g\.)(?<!i\.e\.)(?<=[.!?])[\"')\]]*\s+|\n+")
_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_PLACEHOLDER = re.compile(r"\s*\[n\]", re.IGNORECASE)
_LIST_ITEM = re.compile(r"(?:[-*+\u2022]|\d{1,3}[.)]|#{1,6})\s")
# a line this long (characters) that does not end a sentence is wrapped when the next
# starts in lower case; one this long is wrapped whatever follows
_WRAPPED_MIN = 30
_FULL_LINE = 55
# a title (a line without a sentence's end) must add this many content words to the
# question's to be quoted: "Shared MIME-info Database Contributors" does not answer
# "What is the shared MIME-info database?"
_NEW_WORDS = 2
_STOP = frozenset(
    "a an the and or but if of to in on at by for with from as is are was were be been "
    "being it its this that these those there here which what who whom whose when where "
    "why how do does did done can could should would will shall may might must not no "
    "yes you your we our they their he she his her i me my so than then also only just "
    "into onto about over under such any all each some more most other same very use "
    "used using".split()
)


def content_words(text: str) -> set[str]:
    """Lower-cased words that carry meaning (no stop words, at least 3 characters)."""
    return {w.lower() for w in _WORD.findall(text) if len(w) >= 3 and w.lower() not in _STOP}


def split_sentences(text: str) -> list[str]:
    """Sentences (and separate lines) of a text, trimmed, empty ones dropped; lines a
    manual wrapped at a fixed width are read as the sentence they belong to."""
    return [s.strip() for s in _SENTENCE_END.split(unwrap_lines(text)) if s and s.strip()]


def unwrap_lines(text: str) -> str:
    """`text` with each line that merely continues the previous one (a paragraph wrapped
    at 72 columns, as info manuals and RFCs are) joined to it by a space. Headings,
    list items, signature lines and indented blocks stay lines of their own."""
    out: list[str] = []
    previous = ""
    for line in text.split("\n"):
        if out and _continues(previous, line):
            out[-1] = f"{out[-1].rstrip()} {line.strip()}"
        else:
            out.append(line)
        previous = line
    return "\n".join(out)


def _continues(previous: str, line: str) -> bool:
    head, body = previous.strip(), line.strip()
    if not head or not body or _indent(previous) != _indent(line):
        return False
    if head.endswith((".", "!", "?", ":")) or head.startswith(("#", "--")):
        return False
    if _LIST_ITEM.match(body):
        return False
    if body[0].islower() or body[0] in "([\"'\u201c" or body[0].isdigit():
        return len(head) >= _WRAPPED_MIN
    # a capital may start a new line of a list of names as well as a wrapped sentence:
    # only a line filled almost to the wrapping width is taken to continue
    return len(head) >= _FULL_LINE


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def adds_nothing(answer: str, question: str) -> bool:
    """True when `answer` only restates `question`: the question echoed under a
    "Question:" label, or no content word the question does not already hold."""
    text = _MARKER.sub("", answer).strip()
    if text.lower().startswith("question:"):
        return True
    return not content_words(text) - content_words(question)


def split_paragraphs(text: str) -> list[str]:
    """The paragraphs of a text (separated by blank lines)."""
    return _PARAGRAPH.split(text)


def identifiers(words: set[str]) -> set[str]:
    """Words that name something exactly: with an underscore or a digit (md5_init, sha3)."""
    return {w for w in words if "_" in w or any(c.isdigit() for c in w)}


def support(sentence: str, passage_words: set[str]) -> float:
    """Share of the sentence's content words that the passage contains (1.0 for none);
    0 when it names an identifier the passage does not contain: a small model swaps
    md2_init for md5_init in an otherwise well-supported sentence."""
    words = content_words(_MARKER.sub(" ", sentence))
    if not words:
        return 1.0
    if identifiers(words) - passage_words:
        return 0.0
    return len(words & passage_words) / len(words)


class LoopGuard:
    """Detects an answer that starts repeating itself while it streams.

    `feed` takes each new piece of text and returns True once the last `words` words
    already occurred, in the same order, earlier in the answer.
    """

    def __init__(self, words: int = 8) -> None:
        self.size = max(2, words)
        self._text = ""
        self._seen: set[tuple[str, ...]] = set()
        self._counted = 0  # words of the text already turned into n-grams

    def feed(self, piece: str) -> bool:
        self._text += piece
        words = [w.lower() for w in _WORD.findall(self._text)]
        complete = len(words) - 1  # the last word may still be growing
        looped = False
        for end in range(max(self._counted, self.size), complete + 1):
            gram = tuple(words[end - self.size : end])
            if gram in self._seen:
                looped = True
            self._seen.add(gram)
        self._counted = max(self._counted, complete + 1)
        return looped


def cut_loop(text: str, words: int = 8) -> str:
    """The answer up to the end of the last whole sentence before a repeat began."""
    tokens = list(_WORD.finditer(text))
    seen: dict[tuple[str, ...], int] = {}
    for i in range(len(tokens) - words + 1):
        gram = tuple(t.group().lower() for t in tokens[i : i + words])
        if gram in seen:
            head = text[: tokens[i].start()]
            ends = [m.end() for m in re.finditer(r"[.!?](?:\s*\[\d{1,3}\])*", head)]
            return head[: ends[-1]].strip() if ends else head.strip()
        seen[gram] = i
    return text.strip()


@dataclass(frozen=True)
class Grounded:
    """An answer after checking: its text with markers per sentence, and the sentences
    no passage supports (empty when every sentence is grounded)."""

    text: str
    unsupported: list[str]


def ground(answer: str, passages: Sequence[str], threshold: float = 0.6) -> Grounded:
    """Check every sentence against the passages; fix or add its `[n]` marker."""
    words = [content_words(p) for p in passages]
    out: list[str] = []
    unsupported: list[str] = []
    # a small model sometimes copies the prompt's "[n]" literally instead of a number
    for sentence in split_sentences(_PLACEHOLDER.sub("", answer)):
        bare = _MARKER.sub("", sentence).strip()
        if not content_words(bare):
            out.append(sentence)
            continue
        cited = [int(n) for n in _MARKER.findall(sentence) if 0 < int(n) <= len(passages)]
        scored = [(support(bare, w), n) for n, w in enumerate(words, 1)]
        keep = [n for n in dict.fromkeys(cited) if scored[n - 1][0] >= threshold]
        if not keep:
            best, number = max(scored, key=lambda pair: (pair[0], -pair[1]))
            if best < threshold:
                unsupported.append(bare)
                continue
            keep = [number]
        out.append(_with_markers(bare, keep))
    return Grounded(" ".join(out).strip(), unsupported)


def _with_markers(sentence: str, numbers: list[int]) -> str:
    markers = "".join(f"[{n}]" for n in numbers)
    if sentence and sentence[-1] in ".!?":
        return f"{sentence[:-1]} {markers}{sentence[-1]}"
    return f"{sentence} {markers}"


def extractive_answer(question: str, passages: Sequence[str], sentences: int = 2) -> str:
    """The passage sentences sharing most content words with the question, quoted and
    cited, best passage first; "" when no sentence shares a word."""
    wanted = content_words(question)
    scored: list[tuple[float, int, int, str]] = []
    for number, passage in enumerate(passages, 1):
        for order, sentence in enumerate(split_sentences(passage)):
            words = content_words(sentence)
            if len(sentence) < 12 or not words:
                continue
            overlap = len(words & wanted)
            if overlap == 0 or (_is_title(sentence) and len(words - wanted) < _NEW_WORDS):
                continue  # shares nothing, or a title that only repeats the question
            # earlier passages rank higher: retrieval already ordered them
            score = overlap / (len(wanted) or 1) - 0.05 * (number - 1)
            scored.append((score, number, order, _plain(sentence)))
    distinct: dict[str, tuple[float, int, int, str]] = {}
    for entry in sorted(scored, key=lambda s: (-s[0], s[1], s[2])):
        distinct.setdefault(entry[3].lower(), entry)  # a title repeated is quoted once
    chosen = list(distinct.values())[:sentences]
    if chosen:
        # the first line of the paragraph holding the best sentence says what it is about
        # (a function's signature, a term being defined, a heading); quote it too
        best, order, text = chosen[0][1], chosen[0][2], chosen[0][3]
        head = paragraph_head(passages[best - 1], text)
        if head and len(head) <= 160 and all(c[3] != head for c in chosen):
            chosen = [(1.0, best, order - 1, head), *chosen[: sentences - 1]]
    chosen.sort(key=lambda s: (s[1], s[2]))
    return "\n".join(f"“{text.rstrip()}” [{number}]" for _, number, _, text in chosen)


def paragraph_head(passage: str, sentence: str) -> str:
    """The first line of the paragraph of `passage` holding `sentence` (plain, as
    `extractive_answer` quotes it); "" when the sentence starts its paragraph."""
    for paragraph in split_paragraphs(passage):
        lines = [_plain(line) for line in split_sentences(paragraph)]
        if sentence in lines:
            return lines[0] if lines[0] != sentence else ""
    return ""


def _is_title(line: str) -> bool:
    return not line.rstrip().rstrip("\"')]\u201d\u2019").endswith((".", "!", "?", ":"))


def _plain(sentence: str) -> str:
    """One line, without markdown heading marks ("## Title" -> "Title")."""
    return " ".join(sentence.lstrip("#").split())


def renumber(text: str, keys: Sequence[object]) -> tuple[str, list[int]]:
    """Markers renumbered by first use; `keys[n-1]` identifies passage n's citation
    (passages with equal keys share one number). Returns the new text and, for each new
    number in order, the 1-based old passage number it stands for."""
    mapping: dict[object, int] = {}
    order: list[int] = []

    def replace(match: re.Match[str]) -> str:
        old = int(match.group(1))
        if not 1 <= old <= len(keys):
            return ""
        key = keys[old - 1]
        if key not in mapping:
            mapping[key] = len(order) + 1
            order.append(old)
        return f"[{mapping[key]}]"

    renumbered = re.sub(r"\[(\d{1,3})\]", replace, text)
    # "[1][1]" after merging passages of one page: one marker is enough
    renumbered = re.sub(r"(\[\d{1,3}\])(?:\1)+", r"\1", renumbered)
    return renumbered, order
