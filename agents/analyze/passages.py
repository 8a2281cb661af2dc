"""Trimming a retrieved passage to what matters for one question.

A small model reads a short prompt faster and is distracted less. A passage longer than
its token budget keeps its first line (in manuals and FAQs the line that says what the
passage is about: a heading, a function's signature) and then its sentences sharing most
words with the question, in their original order, gaps marked with "…".
"""

from collections.abc import Callable

from agents.analyze.grounding import content_words, split_sentences

GAP = " … "


def focus(text: str, question: str, max_tokens: int, count: Callable[[str], int]) -> str:
    """`text` when it fits `max_tokens`, else its first line and best sentences."""
    if count(text) <= max_tokens:
        return text
    sentences = split_sentences(text)
    if not sentences:
        return text
    wanted = content_words(question)
    ranked = sorted(
        range(1, len(sentences)),
        key=lambda i: (-len(content_words(sentences[i]) & wanted), i),
    )
    chosen = [0]
    used = count(sentences[0])
    for i in ranked:
        cost = count(sentences[i]) + 1
        if used + cost > max_tokens:
            continue
        chosen.append(i)
        used += cost
    chosen.sort()
    parts: list[str] = []
    for n, i in enumerate(chosen):
        if n and chosen[n - 1] != i - 1:
            parts.append(GAP.strip())
        parts.append(sentences[i])
    out = " ".join(parts)
    if count(out) > max_tokens:  # a first line longer than the budget
        out = _prefix(out, max_tokens, count)
    return out


def _prefix(text: str, max_tokens: int, count: Callable[[str], int]) -> str:
    words = text.split()
    low, high = 0, len(words)
    while low < high:  # the most words whose text still fits
        mid = (low + high + 1) // 2
        if count(" ".join(words[:mid])) <= max_tokens:
            low = mid
        else:
            high = mid - 1
    return " ".join(words[:low])
