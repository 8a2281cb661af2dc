"""Which of llama-cpp-python's named chat formats carry the answer instructions to the
model: the system message must reach the prompt, or the answer rules are lost. Gemma's
and Mistral's built-in formats drop it, so the backend folds it into the user turn."""

import llama_cpp.llama_chat_format as formats
import pytest

from agents.llm.llama_backend import SYSTEM_DROPPING_FORMATS, fold_system_message
from agents.llm.prompts import render_prompt
from agents.llm.types import Message

ANSWER: list[Message] = [
    {"role": "system", "content": render_prompt("answer_system")},
    {"role": "user", "content": "Passages:\n[1] x\n\nQuestion: What is x?"},
]
RULE = "End each sentence with the number of the passage"
FORMATTERS = {
    "chatml": formats.format_chatml,
    "qwen": formats.format_qwen,
    "llama-3": formats.format_llama3,
    "mistral-instruct": formats.format_mistral_instruct,
    "gemma": formats.format_gemma,
}


@pytest.mark.parametrize("name", sorted(FORMATTERS))
def test_the_answer_instructions_reach_the_prompt_in_every_named_format(name: str) -> None:
    # GIVEN the answer messages as the backend sends them for this chat format
    messages = fold_system_message(ANSWER) if name in SYSTEM_DROPPING_FORMATS else ANSWER
    # WHEN the format renders the prompt
    prompt = FORMATTERS[name](messages).prompt
    # THEN the instructions and the question are both in it, the instructions first
    assert RULE in prompt and "Question: What is x?" in prompt
    assert prompt.index(RULE) < prompt.index("Question:")


@pytest.mark.parametrize("name", sorted(SYSTEM_DROPPING_FORMATS))
def test_the_formats_marked_as_dropping_the_system_message_do_drop_it(name: str) -> None:
    # GIVEN unfolded messages WHEN rendered THEN the instructions are lost (why we fold)
    assert RULE not in FORMATTERS[name](ANSWER).prompt


def test_folding_keeps_the_conversation_and_adds_a_user_turn_when_there_is_none() -> None:
    assert fold_system_message([{"role": "system", "content": "S"}]) == [
        {"role": "user", "content": "S"}
    ]
    folded = fold_system_message(
        [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}]
    )
    assert folded == [{"role": "user", "content": "S\n\nQ"}]
