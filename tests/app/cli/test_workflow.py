"""`appliance workflow import|list|export|run --wait` as a user runs them."""

import subprocess
from pathlib import Path

from tests.conftest import run_cli

GOOD = """name: hello
inputs:
  who: {type: string, default: world}
steps:
  - {id: greet, agent: set, with: {text: "hello {{ inputs.who }}"}}
  - {id: again, agent: set, needs: greet, with: {echo: "{{ steps.greet.output.text }}"}}
"""
BAD_RUN = """name: doomed
steps:
  - {id: first, agent: set, with: {v: 1}}
  - {id: broken, agent: set, needs: first, with: {v: "{{ inputs.nothing }}"}}
"""


def _cli(data_dir: Path, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, "--data-dir", str(data_dir), "--config", str(config))


def test_import_list_export_and_run_with_wait(tmp_path: Path, data_dir: Path, config: Path) -> None:
    # GIVEN a workflow file
    source = tmp_path / "hello.yaml"
    source.write_text(GOOD)
    # WHEN it is imported, listed and exported
    imported = _cli(data_dir, config, "workflow", "import", str(source), "--tenant", "demo")
    assert imported.returncode == 0, imported.stderr
    assert "imported workflow hello" in imported.stdout
    listed = _cli(data_dir, config, "workflow", "list", "--tenant", "demo")
    assert "hello\tv1\tenabled" in listed.stdout
    exported = _cli(data_dir, config, "workflow", "export", "hello", "--tenant", "demo")
    assert exported.stdout == GOOD
    # THEN a run with --wait prints each step and exits 0
    ran = _cli(
        data_dir,
        config,
        "workflow",
        "run",
        "hello",
        "--tenant",
        "demo",
        "--input",
        "who=you",
        "--wait",
        "--timeout",
        "60",
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "greet: succeeded" in ran.stdout and "hello you" in ran.stdout
    assert "again: succeeded" in ran.stdout and "succeeded" in ran.stdout.splitlines()[-1]


def test_a_failing_run_exits_non_zero_naming_the_step(
    tmp_path: Path, data_dir: Path, config: Path
) -> None:
    source = tmp_path / "doomed.yaml"
    source.write_text(BAD_RUN)
    assert (
        _cli(data_dir, config, "workflow", "import", str(source), "--tenant", "demo").returncode
        == 0
    )
    ran = _cli(
        data_dir,
        config,
        "workflow",
        "run",
        "doomed",
        "--tenant",
        "demo",
        "--wait",
        "--timeout",
        "60",
    )
    assert ran.returncode == 1
    assert "broken: failed (template_error" in ran.stdout
    assert "first: succeeded" in ran.stdout


def test_a_bad_file_is_refused_with_the_step_and_line(
    tmp_path: Path, data_dir: Path, config: Path
) -> None:
    source = tmp_path / "bad.yaml"
    source.write_text("name: bad\nsteps:\n  - {id: a, agent: nothing}\n")
    result = _cli(data_dir, config, "workflow", "import", str(source), "--tenant", "demo")
    assert result.returncode != 0
    assert "step 'a', line 3" in result.stderr


def test_init_demo_offers_the_examples(data_dir: Path, config: Path) -> None:
    # the examples whose agents are all installed are imported, disabled
    listed = _cli(data_dir, config, "workflow", "list", "--tenant", "demo")
    assert listed.returncode == 0
    for line in listed.stdout.splitlines():
        assert "\tdisabled\t" in line
