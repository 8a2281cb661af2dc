"""Checks for caller-given strings that become literals of a llama.cpp grammar.

Labels of `classify` and the `enum`/`const` values of an extraction schema are written
into the grammar verbatim. llama.cpp's grammar code aborts the whole process on some of
them (a label "\\u0014" did, in llama-grammar.cpp), so they are refused before any model
sees them: no control characters or lone surrogates, and a bounded length.
"""

import unicodedata

MAX_LITERAL_CHARS = 200
# C0/C1 controls (Cc) and lone surrogates (Cs); format characters (Cf: zero-width
# joiners, bidi marks) stay allowed, as real words in several scripts need them
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs"})


def literal_problem(text: str, *, max_chars: int = MAX_LITERAL_CHARS) -> str | None:
    """Why `text` may not be a grammar literal (None when it may), in plain words."""
    if not text.strip():
        return "is empty"
    return _text_problem(text, max_chars)


def _text_problem(text: str, max_chars: int) -> str | None:
    if len(text) > max_chars:
        return f"is longer than {max_chars} characters"
    for position, char in enumerate(text):
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            return f"contains the control character U+{ord(char):04X} at position {position}"
    return None


def value_problem(value: object, *, max_chars: int = MAX_LITERAL_CHARS) -> str | None:
    """Like `literal_problem` for every string inside a JSON value (an enum member may
    be an object or a list); empty and blank strings are allowed here, as JSON values."""
    if isinstance(value, str):
        return _text_problem(value, max_chars)
    if isinstance(value, list):
        items: list[object] = list(value)
    elif isinstance(value, dict):
        items = [*value.keys(), *value.values()]
    else:
        return None
    for item in items:
        problem = value_problem(item, max_chars=max_chars)
        if problem is not None:
            return problem
    return None
