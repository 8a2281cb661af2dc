"""Settings: one typed object from defaults < file < env < flags; bad keys are named."""

import tomllib
from pathlib import Path

import msgspec
import pytest

from app.settings import Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_appliance_toml_documents_every_default_exactly() -> None:
    # GIVEN the root appliance.toml and the embedded defaults
    documented = tomllib.loads((ROOT / "appliance.toml").read_text())
    defaults = msgspec.to_builtins(Settings())
    # THEN the file lists every key with its default value, and nothing else
    assert documented == defaults


def test_later_layers_override_earlier_ones(tmp_path: Path) -> None:
    # GIVEN a file, an environment and flags that all set the port
    config = tmp_path / "appliance.toml"
    config.write_text("[server]\nport = 9001\nhost = '127.0.0.2'\n")
    # WHEN settings are loaded with each layer
    from_file = load_settings(config, environ={})
    from_env = load_settings(config, environ={"APPLIANCE_SERVER__PORT": "9002"})
    from_flags = load_settings(
        config, environ={"APPLIANCE_SERVER__PORT": "9002"}, overrides={"server": {"port": 9003}}
    )
    # THEN the file beats defaults, env beats file, flags beat env; untouched keys persist
    assert from_file.server.port == 9001
    assert from_env.server.port == 9002
    assert from_flags.server.port == 9003
    assert from_flags.server.host == "127.0.0.2"


def test_data_dir_alias_and_config_from_environment(tmp_path: Path) -> None:
    # GIVEN APPLIANCE_CONFIG and APPLIANCE_DATA_DIR in the environment
    config = tmp_path / "c.toml"
    config.write_text("[queue]\nworkers = 3\n")
    env = {"APPLIANCE_CONFIG": str(config), "APPLIANCE_DATA_DIR": str(tmp_path / "d")}
    # WHEN loading
    settings = load_settings(environ=env)
    # THEN both are honoured
    assert settings.queue.workers == 3
    assert settings.data_dir == (tmp_path / "d").resolve()


def test_list_values_from_environment_use_toml_syntax() -> None:
    settings = load_settings(environ={"APPLIANCE_SERVER__ALLOWED_HOSTS": '["example.lan"]'})
    assert settings.server.allowed_hosts == ["example.lan"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[server]\nprot = 8080\n", "unknown setting 'server.prot'"),
        ("[sever]\nport = 8080\n", "unknown setting 'sever'"),
        ("[server]\nport = 'eighty'\n", "setting 'server.port'"),
        ("[queue]\nworkers = [1]\n", "setting 'queue.workers'"),
        ("[server\nport = 1\n", "is not valid TOML"),
    ],
)
def test_bad_config_file_is_refused_naming_the_key(
    tmp_path: Path, content: str, expected: str
) -> None:
    # GIVEN a config file with a typo, a wrong type or broken syntax
    config = tmp_path / "appliance.toml"
    config.write_text(content)
    # WHEN loading it
    with pytest.raises(SettingsError) as caught:
        load_settings(config, environ={})
    # THEN the message names the file and the offending key
    assert expected in str(caught.value)
    assert str(config) in str(caught.value)


def test_bad_environment_value_names_the_variable_source() -> None:
    with pytest.raises(SettingsError, match=r"environment: setting 'server\.port'"):
        load_settings(environ={"APPLIANCE_SERVER__PORT": "not-a-number"})


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "absent.toml", environ={})
