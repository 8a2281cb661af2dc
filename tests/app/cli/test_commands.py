"""The `appliance` CLI: every command works; every failure is one line, non-zero, harmless."""

from pathlib import Path

from tests.conftest import (
    run_cli,
    tree_snapshot,
    without_dac_override,
)


def _one_line_failure(result: "object") -> str:
    stderr = result.stderr.strip()  # type: ignore[attr-defined]
    assert result.returncode != 0  # type: ignore[attr-defined]
    assert len(stderr.splitlines()) == 1, stderr
    assert "Traceback" not in stderr
    return stderr


def test_init_generates_a_password_shown_once_and_never_stored_in_clear(
    tmp_path: Path, config: Path
) -> None:
    # WHEN init runs without a password file
    data = tmp_path / "data"
    result = run_cli("init", "--data-dir", str(data), "--config", str(config))
    # THEN it prints a generated password once
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if "password:" in x)
    password = line.split("password:")[1].strip()
    assert len(password) >= 16
    # AND the password is nowhere on disk, and the key file is private
    for path in data.rglob("*"):
        if path.is_file():
            assert password.encode() not in path.read_bytes()
    assert oct((data / "master.key").stat().st_mode & 0o777) == "0o600"


def test_admin_commands_manage_tenants_users_and_members(
    data_dir: Path, config: Path, tmp_path: Path
) -> None:
    common = ["--data-dir", str(data_dir), "--config", str(config)]
    pw = tmp_path / "bob-pw"
    pw.write_text("bob's long password\n")
    assert run_cli("tenant", "create", "acme", *common).returncode == 0
    assert run_cli("user", "create", "bob", "--password-file", str(pw), *common).returncode == 0
    added = run_cli(
        "member", "add", "--tenant", "acme", "--user", "bob", "--role", "editor", *common
    )
    assert added.returncode == 0, added.stderr
    tenants = run_cli("tenant", "list", *common).stdout
    users = run_cli("user", "list", *common).stdout
    assert "acme" in tenants and "demo" in tenants
    assert "acme:editor" in users
    pw.write_text("another long password\n")
    assert run_cli("user", "passwd", "bob", "--password-file", str(pw), *common).returncode == 0
    deleted = run_cli("tenant", "delete", "acme", "--yes", *common)
    assert deleted.returncode == 0, deleted.stderr
    assert "acme" not in run_cli("tenant", "list", *common).stdout


def test_short_password_is_refused_with_the_rule(
    data_dir: Path, config: Path, tmp_path: Path
) -> None:
    pw = tmp_path / "short"
    pw.write_text("short\n")
    result = run_cli(
        "user",
        "create",
        "eve",
        "--password-file",
        str(pw),
        "--data-dir",
        str(data_dir),
        "--config",
        str(config),
    )
    assert "at least 12 characters" in _one_line_failure(result)


def test_init_refuses_an_initialised_directory_and_changes_nothing(
    data_dir: Path, config: Path
) -> None:
    before = tree_snapshot(data_dir)
    result = run_cli("init", "--data-dir", str(data_dir), "--config", str(config))
    assert "already initialised" in _one_line_failure(result)
    assert tree_snapshot(data_dir) == before


def test_corrupt_config_file_fails_cleanly_and_changes_nothing(
    data_dir: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[server\nport = = 3\n")
    before = tree_snapshot(data_dir)
    result = run_cli("tenant", "list", "--data-dir", str(data_dir), "--config", str(bad))
    assert "not valid TOML" in _one_line_failure(result)
    assert tree_snapshot(data_dir) == before


def test_missing_master_key_fails_cleanly_and_changes_nothing(data_dir: Path, config: Path) -> None:
    (data_dir / "master.key").rename(data_dir.parent / "kept.key")
    before = tree_snapshot(data_dir)
    result = run_cli("serve", "--data-dir", str(data_dir), "--config", str(config))
    assert "master key file" in _one_line_failure(result)
    assert tree_snapshot(data_dir) == before


def test_wrong_passphrase_fails_cleanly_and_changes_nothing(
    tmp_path: Path, config: Path, password_file: Path
) -> None:
    data = tmp_path / "data"
    env = {"APPLIANCE_PASSPHRASE": "the right passphrase"}
    init = run_cli(
        "init",
        "--passphrase",
        "--data-dir",
        str(data),
        "--config",
        str(config),
        "--admin-password-file",
        str(password_file),
        env=env,
    )
    assert init.returncode == 0, init.stderr
    assert not (data / "master.key").exists()
    assert (
        run_cli(
            "tenant", "list", "--data-dir", str(data), "--config", str(config), env=env
        ).returncode
        == 0
    )
    before = tree_snapshot(data)
    result = run_cli(
        "serve",
        "--data-dir",
        str(data),
        "--config",
        str(config),
        env={"APPLIANCE_PASSPHRASE": "a wrong passphrase"},
    )
    assert "wrong passphrase" in _one_line_failure(result)
    assert tree_snapshot(data) == before


def test_unwritable_data_dir_fails_cleanly_and_changes_nothing(
    data_dir: Path, config: Path, tmp_path: Path
) -> None:
    # GIVEN a data dir and a parent directory the process may not write to
    locked_parent = tmp_path / "locked"
    locked_parent.mkdir()
    data_dir.chmod(0o500)
    locked_parent.chmod(0o500)
    before = tree_snapshot(data_dir)
    try:
        prefix = without_dac_override()
        existing = run_cli_prefixed(
            prefix, "tenant", "create", "new", "--data-dir", str(data_dir), "--config", str(config)
        )
        fresh = run_cli_prefixed(
            prefix, "init", "--data-dir", str(locked_parent / "data"), "--config", str(config)
        )
    finally:
        data_dir.chmod(0o700)
        locked_parent.chmod(0o700)
    # THEN both fail with one line naming the problem, and nothing changed
    assert "not writable" in _one_line_failure(existing)
    assert "permission denied" in _one_line_failure(fresh)
    assert tree_snapshot(data_dir) == before
    assert list(locked_parent.iterdir()) == []


def run_cli_prefixed(prefix: list[str], *args: str):  # type: ignore[no-untyped-def]
    import os
    import subprocess

    from tests.conftest import APPLIANCE

    env = {k: v for k, v in os.environ.items() if not k.startswith("APPLIANCE_")}
    return subprocess.run(
        [*prefix, APPLIANCE, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_usage_errors_are_one_line(tmp_path: Path) -> None:
    result = run_cli("member", "add", "--tenant", "x")
    stderr = result.stderr.strip()
    assert result.returncode == 2
    assert stderr.startswith("appliance: usage error:")
    assert len(stderr.splitlines()) == 1


def test_backup_restore_and_rotation_through_the_cli(
    data_dir: Path, config: Path, tmp_path: Path
) -> None:
    common = ["--config", str(config)]
    # GIVEN two backups, with and without the key
    with_key, without_key = tmp_path / "bk-key", tmp_path / "bk"
    assert (
        run_cli(
            "backup", str(with_key), "--include-key", "--data-dir", str(data_dir), *common
        ).returncode
        == 0
    )
    assert run_cli("backup", str(without_key), "--data-dir", str(data_dir), *common).returncode == 0
    # WHEN the master key is rotated
    rotated = run_cli("rotate-master-key", "--data-dir", str(data_dir), *common)
    # THEN the live data dir still checks out
    assert rotated.returncode == 0, rotated.stderr
    assert "1 tenant key(s) re-wrapped" in rotated.stdout
    assert run_cli("doctor", "--quick", "--data-dir", str(data_dir), *common).returncode == 0
    # AND a backup with its key restores and checks out
    restored = tmp_path / "restored"
    done = run_cli("restore", str(with_key), "--data-dir", str(restored), *common)
    assert done.returncode == 0, done.stderr
    assert run_cli("doctor", "--data-dir", str(restored), *common).returncode == 0
    # AND one without its key says what is missing
    keyless = run_cli("restore", str(without_key), "--data-dir", str(tmp_path / "r2"), *common)
    assert "master key" in _one_line_failure(keyless)


def test_debug_flag_shows_the_traceback(tmp_path: Path) -> None:
    result = run_cli("tenant", "list", "--data-dir", str(tmp_path / "none"), "--debug")
    assert result.returncode == 1
    assert "Traceback" in result.stderr
