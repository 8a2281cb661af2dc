"""Judging one generated answer against its known short answer and its citations.

Kept apart from the answerer's own grounding check (agents/analyze/grounding.py) on
purpose: the bench judges with its own, simpler rules, so an answerer cannot pass by
agreeing with itself.

- states: the known short answer (a function name, a number, a term) appears in the
  answer as a word (case-insensitive; backticks and quotes around it allowed).
- markers: every sentence carrying `[n]` markers is supported by at least one cited
  passage: at least SUPPORT_SHARE of its content words (3+ letters, not stop words)
  occur in that passage's text. A marker beyond the citations is unsupported.
- loops: some run of LOOP_WORDS words occurs LOOP_REPEATS times or more, or one
  sentence of 5+ words is repeated.
"""

import re
from collections.abc import Sequence
from typing import Any

SUPPORT_SHARE = 0.6
LOOP_WORDS = 6
LOOP_REPEATS = 3
_MARKER = re.compile(r"\[(\d{1,3})\]")
_WORD = re.compile(r"[A-Za-z0-9_]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_STOP = frozenset(
    "the and for that this with from are was were can you your use used using which what "
    "when where how does not has have its into any all also may must will shall should "
    "than then there these those their such only other more most some each".split()
)


def content_words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text) if len(w) >= 3 and w.lower() not in _STOP}


def states(answer: str, expected: str) -> bool:
    """True when the expected short answer stands in the answer as a whole word."""
    pattern = rf"(?<![A-Za-z0-9_]){re.escape(expected)}(?![A-Za-z0-9_])"
    return re.search(pattern, answer, re.IGNORECASE) is not None


def sentences(answer: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(answer) if s.strip()]


def marker_support(answer: str, passages: Sequence[str]) -> tuple[int, int]:
    """(markers, supported markers) over the answer's sentences."""
    total = supported = 0
    for sentence in sentences(answer):
        numbers = [int(n) for n in _MARKER.findall(sentence)]
        if not numbers:
            continue
        words = content_words(_MARKER.sub(" ", sentence))
        for n in numbers:
            total += 1
            if not 1 <= n <= len(passages):
                continue
            found = content_words(passages[n - 1])
            if not words or len(words & found) >= SUPPORT_SHARE * len(words):
                supported += 1
    return total, supported


def loops(answer: str) -> bool:
    """True when the answer repeats itself (see the module docstring)."""
    words = [w.lower() for w in _WORD.findall(answer)]
    counts: dict[tuple[str, ...], int] = {}
    for i in range(len(words) - LOOP_WORDS + 1):
        gram = tuple(words[i : i + LOOP_WORDS])
        counts[gram] = counts.get(gram, 0) + 1
        if counts[gram] >= LOOP_REPEATS:
            return True
    seen: set[str] = set()
    for sentence in sentences(_MARKER.sub("", answer)):
        key = " ".join(_WORD.findall(sentence.lower()))
        if len(key.split()) >= 5 and key in seen:
            return True
        seen.add(key)
    return False


def judge(answer: str, expected: str, passages: Sequence[str]) -> dict[str, Any]:
    """All three verdicts for one answer; `passages[n-1]` is the text behind `[n]`."""
    markers, supported = marker_support(answer, passages)
    return {
        "states_answer": states(answer, expected),
        "markers": markers,
        "markers_supported": supported,
        "all_markers_supported": markers == supported,
        "loops": loops(answer),
    }
