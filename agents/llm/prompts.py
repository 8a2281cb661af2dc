"""Prompt templates kept as files in `agents/llm/prompts/` (package data), not in code.

Templates use `string.Template` placeholders (`$name`): they are plain text that
anyone can edit, and substituting values can never execute code.
"""

from functools import cache
from importlib import resources
from string import Template


@cache
def load_prompt(name: str) -> Template:
    """The template `prompts/<name>.txt`; raises FileNotFoundError for an unknown name."""
    text = resources.files("agents.llm").joinpath("prompts", f"{name}.txt").read_text("utf-8")
    return Template(text)


def render_prompt(name: str, **values: object) -> str:
    """Fill the named template; every placeholder must be given (KeyError otherwise)."""
    return load_prompt(name).substitute({k: str(v) for k, v in values.items()}).strip()
