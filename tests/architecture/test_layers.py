"""The layer contract and the module rules of docs/architecture.md, checked on the tree."""

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "ui", "agents", "storage", "bench")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _python_files(*packages: str) -> list[Path]:
    return sorted(p for pkg in packages for p in (ROOT / pkg).rglob("*.py"))


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _copy_tree(target: Path) -> None:
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__")
        )


def test_the_tree_keeps_the_layer_contract() -> None:
    # GIVEN the project's import-linter contract WHEN it checks the tree THEN it holds
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("storage/clock.py", "import app.settings"),
        ("agents/models.py", "import ui.backend"),
        ("ui/backend.py", "import app.errors"),
        ("agents/models.py", "import bench.common"),
    ],
)
def test_a_forbidden_import_fails_the_layer_check(
    tmp_path: Path, module: str, forbidden: str
) -> None:
    # GIVEN a copy of the tree where a lower layer imports a higher one
    _copy_tree(tmp_path)
    path = tmp_path / module
    path.write_text(path.read_text() + f"\n{forbidden}  # noqa\n")
    # WHEN the layer check runs THEN it fails and names the broken contract
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout


def _package_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])


def test_no_module_imports_a_private_name_from_another_package() -> None:
    # GIVEN every product module WHEN its imports are read
    offenders = []
    for path in _python_files(*PACKAGES):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module.split(".")[0] not in PACKAGES:
                    continue
                source_package = node.module.rsplit(".", 1)[0]
                for alias in node.names:
                    if alias.name.startswith("_") and source_package != _package_of(path):
                        offenders.append(f"{path.relative_to(ROOT)}: {node.module}.{alias.name}")
    # THEN no private name crosses a package boundary
    assert offenders == []


def test_every_module_has_at_most_400_lines() -> None:
    too_long = [
        f"{p.relative_to(ROOT)}: {n}"
        for p in [*_python_files(*PACKAGES), *sorted((ROOT / "tests").rglob("*.py"))]
        if (n := len(p.read_text().splitlines())) > 400
    ]
    assert too_long == []


def test_agents_are_found_in_the_typed_runtime_not_a_string_keyed_dict() -> None:
    hits = [
        str(p.relative_to(ROOT))
        for p in _python_files("app", "ui", "agents")
        if "extras[" in p.read_text() or "services.extras" in p.read_text()
    ]
    assert hits == []
