"""A user's GGUF with an explicit chat template: `models.llm_chat_format` travels from the
settings through the composition root into the model process, a known format answers,
and an unknown name is refused when the model loads, naming the formats that exist.

The packaged SmolLM2 file stands in for a larger Qwen/Llama/Gemma-class GGUF: it is a
ChatML model, so "chatml" is its right template; the config path is the same for any file.
"""

import shutil
from pathlib import Path

import pytest

from agents.llm.errors import LLMError
from agents.llm.types import Message
from agents.models import locate_llm_model
from app.llm_wiring import build_llm
from app.settings import ModelSettings, Settings

pytestmark = pytest.mark.slow  # starts real model processes

QUESTION: list[Message] = [
    {"role": "system", "content": "Answer with one word."},
    {"role": "user", "content": "What colour is the sky on a clear day?"},
]


def _own_gguf(tmp_path: Path) -> Path:
    own = tmp_path / "models" / "Larger-Instruct.Q4_1.gguf"
    own.parent.mkdir()
    shutil.copyfile(locate_llm_model("").path, own)
    return own


def test_an_explicit_chat_format_from_the_settings_is_used_to_answer(tmp_path: Path) -> None:
    # GIVEN a GGUF named by path and its chat template named explicitly, as in appliance.toml
    settings = Settings(
        models=ModelSettings(llm_model=str(_own_gguf(tmp_path)), llm_chat_format="chatml")
    )
    # WHEN the appliance builds its LLM and asks
    service = build_llm(settings)
    try:
        answer = service.complete(QUESTION, max_tokens=8)
        # THEN that file answered through the template (no template markers leak out)
        assert service.status().model == "Larger-Instruct.Q4_1"
        assert answer.text.strip() and "<|im_" not in answer.text
        assert answer.prompt_tokens > 10
    finally:
        service.close()


def test_an_unknown_chat_format_is_refused_when_the_model_loads(tmp_path: Path) -> None:
    # GIVEN a misspelt template name
    settings = Settings(
        models=ModelSettings(llm_model=str(_own_gguf(tmp_path)), llm_chat_format="chat-ml")
    )
    service = build_llm(settings)
    try:
        # WHEN the model loads THEN it fails with the known names, not at the first answer
        with pytest.raises(LLMError, match=r"llm_chat_format 'chat-ml'.*chatml"):
            service.load()
    finally:
        service.close()
