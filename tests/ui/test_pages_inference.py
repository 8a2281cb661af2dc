"""The Ask page and the dashboard say when the LLM server is down, and stop saying so by
themselves when it returns (a real llama.cpp server, stopped and started again)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.llama_server import LlamaServer, server_model_settings
from tests.ui.conftest import UiWorld, has_testid, simulated_user, wait_testid, world_settings

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


@pytest.fixture
def server_world(tmp_path: Path) -> Iterator[tuple[UiWorld, LlamaServer]]:
    llama = LlamaServer(tmp_path)
    llama.start()
    services = world_settings(
        tmp_path,
        models=server_model_settings(llama),
        inference={"max_retries": 0, "recheck_after_s": 0.5, "health_max_age_s": 0.5},
    )
    world = UiWorld(services)
    yield world, llama
    llama.stop()
    services.close()


async def test_the_ask_page_says_the_model_server_is_down_until_it_returns(
    server_world: tuple[UiWorld, LlamaServer],
) -> None:
    world, llama = server_world
    async with simulated_user(world, session_of="admin") as user:
        # GIVEN the Ask page while the LLM server answers: no notice
        await user.open("/ask")
        assert not has_testid(user, "inference-down")
        # WHEN the server stops THEN a notice appears without a reload
        llama.stop()
        await wait_testid(user, "inference-down", tries=200)
        await user.should_see("The language model server cannot be reached")
        # AND the dashboard's model card names the unreachable server
        models = world.backend.models()
        language = next(m for m in models if m.kind == "language model")
        assert not language.loaded and "no server reachable" in language.detail
        # WHEN the server returns THEN the notice goes away by itself
        llama.start()
        await wait_testid(user, "inference-down", present=False, tries=200)
        assert next(m for m in world.backend.models() if m.kind == "language model").loaded
