"""Settings: env + TOML, validated at boot with a hint; every env var documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from arena.config import ENV_VARS, load_settings
from arena.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_without_file(tmp_path: Path) -> None:
    s = load_settings({}, cwd=tmp_path)
    assert s.port == 7860 and s.host == "127.0.0.1"
    assert s.resolved_database_url == f"sqlite:///{tmp_path / 'data' / 'arena.db'}"
    assert s.models == ()


def test_env_overrides(tmp_path: Path) -> None:
    s = load_settings({"ARENA_PORT": "8123", "ARENA_HOST": "0.0.0.0",
                       "ARENA_DATABASE_URL": "postgresql+psycopg://u@h/db"}, cwd=tmp_path)
    assert (s.port, s.host, s.resolved_database_url) == (8123, "0.0.0.0", "postgresql+psycopg://u@h/db")


@pytest.mark.parametrize(
    ("env", "toml", "message"),
    [
        ({"ARENA_PORT": "seventy"}, "", "ARENA_PORT"),
        ({"ARENA_DATABASE_URL": "mysql://x"}, "", "only sqlite"),
        ({}, "[arena]\nmax_prompt_chars = 'many'\n", "max_prompt_chars"),
        ({}, "[arena]\nbogus = 1\n", "unknown key 'bogus'"),
        ({}, "[nonsense]\n", "unknown section"),
        ({}, "this is not toml", "not valid TOML"),
    ],
)
def test_bad_settings_fail_fast_with_hint(tmp_path: Path, env: dict[str, str], toml: str, message: str) -> None:
    if toml:
        (tmp_path / "arena.toml").write_text(toml)
    with pytest.raises(ConfigError, match=message):
        load_settings(env, cwd=tmp_path)


def test_example_config_is_valid(tmp_path: Path) -> None:
    from arena.catalog import load_catalog

    s = load_settings({"ARENA_CONFIG": str(ROOT / "arena.example.toml")}, cwd=tmp_path)
    catalog = load_catalog(s.models, include_builtins=s.include_builtin_models)
    assert len(catalog.models) >= 9


def test_every_env_var_is_documented() -> None:
    readme = (ROOT / "README.md").read_text() + (ROOT / "arena.example.toml").read_text()
    for _name, var, _help in ENV_VARS:
        assert var in readme, f"{var} is not documented in README.md or arena.example.toml"
