"""Extraction with the packaged 135M model: schema-valid JSON for 20 real documents.

Validity must be 100%; accuracy (how many fields match what the document says) is only
reported, in tests/artifacts/extract_accuracy.json, because a 135M model is small.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from agents.analyze.documents_ops import extract
from agents.llm import LlamaCppBackend, LLMConfig, LLMService
from agents.models import locate_llm_model
from app.llm_wiring import build_llm
from app.settings import ModelSettings, Settings
from tests.llama_server import server_model_settings

pytestmark = pytest.mark.slow

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

_S = {"type": "string"}
_I = {"type": "integer"}
_B = {"type": "boolean"}


def _obj(**props: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }


# (document path, schema, expected values for the accuracy report)
CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "/usr/share/common-licenses/Apache-2.0",
        _obj(license_name=_S, version=_S),
        {"version": "2.0"},
    ),
    ("/usr/share/common-licenses/GPL-3", _obj(title=_S, version=_I, year=_I), {"version": 3}),
    (
        "/usr/share/common-licenses/GPL-2",
        _obj(title=_S, version=_I, free_software=_B),
        {"version": 2},
    ),
    ("/usr/share/common-licenses/LGPL-2.1", _obj(license=_S, lesser=_B), {"lesser": True}),
    ("/usr/share/common-licenses/LGPL-3", _obj(license=_S, version=_I), {"version": 3}),
    (
        "/usr/share/common-licenses/MPL-2.0",
        _obj(license=_S, version=_S, sections=_I),
        {"version": "2.0"},
    ),
    ("/usr/share/common-licenses/MPL-1.1", _obj(name=_S, version=_S), {"version": "1.1"}),
    ("/usr/share/common-licenses/Artistic", _obj(license=_S, summary=_S), {}),
    ("/usr/share/common-licenses/BSD", _obj(license=_S, conditions=_I), {}),
    (
        "/usr/share/common-licenses/CC0-1.0",
        _obj(name=_S, public_domain=_B),
        {"public_domain": True},
    ),
    (
        "/usr/share/common-licenses/GFDL-1.3",
        _obj(title=_S, version=_S, applies_to=_S),
        {"version": "1.3"},
    ),
    ("/usr/share/common-licenses/GFDL-1.2", _obj(title=_S, year=_I), {}),
    ("/usr/share/common-licenses/GPL-1", _obj(title=_S, version=_I), {"version": 1}),
    ("/usr/share/doc/bash/copyright", _obj(upstream_author=_S, license=_S), {}),
    ("/usr/share/doc/coreutils/copyright", _obj(package=_S, license=_S), {}),
    ("/usr/share/doc/curl/copyright", _obj(package=_S, copyright_holder=_S), {}),
    ("/usr/share/doc/apt/copyright", _obj(package=_S, license=_S), {}),
    (
        "/usr/share/doc/dash/copyright",
        _obj(package=_S, authors={"type": "array", "items": _S, "maxItems": 5}),
        {},
    ),
    ("/usr/share/doc/bzip2/copyright", _obj(package=_S, author=_S), {}),
    (
        "/usr/share/doc/cmake/copyright",
        _obj(
            package=_S, kind={"type": "string", "enum": ["license", "invoice", "letter", "manual"]}
        ),
        {"kind": "license"},
    ),
]


@pytest.fixture(scope="module", params=["llama.cpp in process", "llama.cpp server"])
def llm(request: pytest.FixtureRequest) -> Iterator[LLMService]:
    """The packaged model in this process, and served by a real llama.cpp server that
    the appliance reaches as its OpenAI-compatible endpoint (issue 17)."""
    if request.param == "llama.cpp server":
        server = request.getfixturevalue("llama_server")
        service = build_llm(Settings(models=ModelSettings(**server_model_settings(server))))
    else:
        service = LLMService(LlamaCppBackend(locate_llm_model(""), LLMConfig(n_ctx=2048)))
    yield service
    service.close()


def test_twenty_real_documents_give_schema_valid_json(
    llm: LLMService, request: pytest.FixtureRequest
) -> None:
    # GIVEN 20 real documents shipped with Debian, each with its own schema
    missing = [path for path, _, _ in CASES if not Path(path).is_file()]
    assert not missing, f"real documents missing on this machine: {missing}"
    valid = 0
    matched = checked = 0
    report = []
    for path, schema, expected in CASES:
        # the first part of each document keeps the run short on a 2-core machine
        text = Path(path).read_text(errors="replace")[:1500]
        # WHEN the model extracts under the schema's grammar
        value = extract(llm, text, schema)
        # THEN the output is valid against the schema every time
        jsonschema.validate(value, schema)
        valid += 1
        hits = {key: value.get(key) == want for key, want in expected.items()}
        matched += sum(hits.values())
        checked += len(hits)
        report.append({"document": path, "value": value, "expected": expected, "matches": hits})
    assert valid == len(CASES) == 20
    ARTIFACTS.mkdir(exist_ok=True)
    suffix = "_server" if "server" in request.node.callspec.id else ""
    (ARTIFACTS / f"extract_accuracy{suffix}.json").write_text(
        json.dumps(
            {
                "validity": valid / len(CASES),
                "field_accuracy": matched / max(checked, 1),
                "cases": report,
            },
            indent=2,
        )
    )
