"""Settings of the two backends, as frozen values built once by the composition root."""

from dataclasses import dataclass


@dataclass(frozen=True)
class LLMConfig:
    """llama.cpp settings (from `[models]` in appliance.toml)."""

    n_ctx: int = 2048
    n_threads: int = 2
    n_gpu_layers: int = 0
    seed: int = 42
    # ggml's extra CPU buffer types (AMX, weight repacking) crash with SIGSEGV on some
    # AMX-capable CPUs and VMs (seen here in ggml_backend_amx_mul_mat); off unless asked for.
    extra_buffer_types: bool = False
    # a llama-cpp-python chat format name ("chatml", "llama-3", ...); "" uses the template
    # stored in the GGUF file
    chat_format: str = ""
    # flash attention reads prompts faster on CPU too; off for a build that lacks it
    flash_attention: bool = False

    def __post_init__(self) -> None:
        if self.n_ctx < 128:
            raise ValueError("n_ctx must be at least 128")
        if self.n_threads < 1:
            raise ValueError("n_threads must be at least 1")
        if self.n_gpu_layers < -1:
            raise ValueError("n_gpu_layers must be -1 (all), 0 or positive")


@dataclass(frozen=True)
class OpenAICompatibleConfig:
    """A remote OpenAI-compatible server (Ollama, llama.cpp server, vLLM...)."""

    base_url: str
    model: str
    api_key: str = ""
    context_window: int = 8192
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 120.0
    max_retries: int = 3
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 8.0
    # how a JSON Schema is sent: "json_schema" (OpenAI, vLLM, llama.cpp's server) or
    # "json_object" with a "schema" member (llama-cpp-python's server)
    json_format: str = "json_schema"

    def __post_init__(self) -> None:
        if self.json_format not in ("json_schema", "json_object"):
            raise ValueError("json_format must be 'json_schema' or 'json_object'")
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        if not self.model:
            raise ValueError("model must name the remote model")
        if self.max_retries < 0:
            raise ValueError("max_retries must not be negative")

    def __repr__(self) -> str:
        # keep the API key out of logs and tracebacks
        return (
            f"OpenAICompatibleConfig(base_url={self.base_url!r}, model={self.model!r}, "
            f"api_key={'***' if self.api_key else ''!r})"
        )
