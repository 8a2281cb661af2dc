"""A real llama.cpp server (llama-cpp-python's `python -m llama_cpp.server`) serving the
packaged SmolLM2 GGUF on a loopback port, for the tests of the OpenAI-compatible backends.

It can be stopped and started again on the same port (the endpoint-down tests), and it
serves chat or, with `embedding=True`, /v1/embeddings.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from agents.models import locate_llm_model

SERVER_N_CTX = 2048
CHAT_ALIAS = "smollm2"
EMBED_ALIAS = "smollm2-embed"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LlamaServer:
    """One `llama_cpp.server` child process; `stop()` and `start()` keep the port."""

    def __init__(self, log_dir: Path, *, embedding: bool = False, n_ctx: int = SERVER_N_CTX):
        self.port = free_port()
        self.alias = EMBED_ALIAS if embedding else CHAT_ALIAS
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._embedding = embedding
        self._n_ctx = n_ctx
        self._log = log_dir / f"llama-server-{self.port}.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout_s: float = 120) -> None:
        """Start the server and wait until /v1/models answers."""
        command = [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(locate_llm_model("").path),
            "--model_alias", self.alias,
            "--host", "127.0.0.1", "--port", str(self.port),
            "--n_ctx", str(self._n_ctx), "--n_threads", "2",
        ]  # fmt: skip
        if self._embedding:
            command += ["--embedding", "true"]
        with self._log.open("ab") as out:
            self._process = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "NO_PROXY": "127.0.0.1"},
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise AssertionError(f"the llama.cpp server exited: {self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as reply:
                    json.loads(reply.read())
                    return
            except OSError:
                time.sleep(0.3)
        raise AssertionError(f"the llama.cpp server did not answer in {timeout_s} s")

    def stop(self) -> None:
        """Stop the server process (SIGTERM, then SIGKILL)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def log_tail(self) -> str:
        return self._log.read_text(errors="replace")[-2000:] if self._log.exists() else ""


def server_model_settings(server: LlamaServer) -> dict[str, Any]:
    """`[models]` overrides that point the appliance's LLM at `server`."""
    return {
        "llm_backend": "openai",
        "remote_base_url": server.base_url,
        "remote_model": server.alias,
        "remote_context_window": SERVER_N_CTX,
        # llama-cpp-python's server takes the schema as json_object + schema
        "remote_json_format": "json_object",
    }
