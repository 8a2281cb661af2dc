"""Trimming a retrieved passage to what matters for one question.

A small model reads a short prompt faster and is distracted less. A passage longer than
its token budget keeps its first line (in manuals and FAQs the line that says what the
passage is about: a heading, a function's signature), its sentences sharing most words
with the question, and the first line of the best one's paragraph (in a manual the
entry's signature, which names what the question asks for), in their original order,
gaps marked with "…".
"""

from collections.abc import Callable

from agents.analyze.grounding import content_words, split_paragraphs, split_sentences

GAP = " … "


def focus(text: str, question: str, max_tokens: int, count: Callable[[str], int]) -> str:
    """`text` when it fits `max_tokens`, else its first line and best sentences."""
    if count(text) <= max_tokens:
        return text
    sentences, heads = _sentences_and_heads(text)
    if not sentences:
        return text
    wanted = content_words(question)
    ranked = sorted(
        range(1, len(sentences)),
        key=lambda i: (-len(content_words(sentences[i]) & wanted), i),
    )
    chosen = [0]
    used = count(sentences[0])
    for n, i in enumerate(ranked):
        # the best sentence comes with the first line of its paragraph (a signature, the
        # term it defines), which may hold the very name asked for
        if i in chosen:
            continue
        first = n == 0 and heads[i] != i and heads[i] not in chosen
        wanted_here = [heads[i], i] if first else [i]
        cost = sum(count(sentences[j]) + 1 for j in wanted_here)
        if used + cost > max_tokens:
            continue
        chosen.extend(wanted_here)
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


def _sentences_and_heads(text: str) -> tuple[list[str], list[int]]:
    """The sentences of `text`, and for each the index of its paragraph's first one."""
    sentences: list[str] = []
    heads: list[int] = []
    for paragraph in split_paragraphs(text):
        pieces = split_sentences(paragraph)
        heads.extend([len(sentences)] * len(pieces))
        sentences.extend(pieces)
    return sentences, heads


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
