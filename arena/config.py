"""Settings: ARENA_* environment variables plus one TOML file, validated at boot with a hint on how to fix."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from arena.errors import ConfigError

# (setting name, environment variable, help) — a test checks every setting is documented here and in docs.
ENV_VARS: tuple[tuple[str, str, str], ...] = (
    ("database_url", "ARENA_DATABASE_URL", "SQLAlchemy URL; default sqlite:///<data_dir>/arena.db"),
    ("host", "ARENA_HOST", "interface to bind (default 127.0.0.1)"),
    ("port", "ARENA_PORT", "port to serve UI and API on (default 7860)"),
    ("data_dir", "ARENA_DATA_DIR", "folder for the SQLite database, media and releases (default ./data)"),
    ("config_file", "ARENA_CONFIG", "path of the TOML config (default ./arena.toml if it exists)"),
    ("admin_token", "ARENA_ADMIN_TOKEN", "token for maintainer endpoints (unset: maintainer tools disabled)"),
)


@dataclass(frozen=True)
class LeaderboardSettings:
    """How the live board is computed."""

    refresh_seconds: float = 60.0
    bootstrap_rounds: int = 1000
    seed: int = 0
    min_votes: int = 0
    provisional_votes: int = 30
    anchor_model: str = ""
    anchor_rating: float = 1000.0
    threads: int = 2


@dataclass(frozen=True)
class ReleaseSettings:
    """How data releases are built (docs/privacy.md explains the policy)."""

    cadence_days: float = 7.0
    embargo_days: float = 7.0
    time_resolution_hours: float = 1.0
    k_anonymity: int = 5
    terms_version: str = "2026-12"
    batch_size: int = 5000
    workers: int = 1
    enabled: bool = True


MEDIA_BACKENDS = ("local", "s3")


@dataclass(frozen=True)
class MediaSettings:
    """Where generated images and audio are stored (docs/deployment.md); S3 credentials come only from the env."""

    backend: str = "local"
    endpoint_url: str = ""
    bucket: str = ""
    region: str = ""
    prefix: str = ""
    timeout_s: float = 10.0
    max_attempts: int = 3


@dataclass(frozen=True)
class Settings:
    """Everything the application needs to start; built once by `load_settings` and passed explicitly."""

    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 7860
    data_dir: Path = Path("data")
    config_file: Path | None = None
    admin_token: str = ""
    max_prompt_chars: int = 10_000
    max_turns: int = 10
    generation_timeout_s: float = 60.0
    trusted_proxies: tuple[str, ...] = ()
    identity_leaks: Mapping[str, Any] = field(default_factory=dict)
    moderation: Mapping[str, Any] = field(default_factory=dict)
    rate_limits: Mapping[str, Any] = field(default_factory=dict)
    anomaly: Mapping[str, Any] = field(default_factory=dict)
    anomaly_scan_seconds: float = 30.0
    max_media_bytes: int = 20_000_000
    min_listen_s: float = 5.0
    include_builtin_models: bool = False
    access_log: bool = False
    leaderboard: LeaderboardSettings = field(default_factory=LeaderboardSettings)
    release: ReleaseSettings = field(default_factory=ReleaseSettings)
    media: MediaSettings = field(default_factory=MediaSettings)
    models: tuple[Mapping[str, Any], ...] = ()

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite in the data folder."""
        return self.database_url or f"sqlite:///{self.data_dir / 'arena.db'}"


def _section(raw: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = raw.get(name, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"[{name}] in the config file must be a table")
    return value


_SECTIONS = ("models", "leaderboard", "release", "media")
_CREDENTIAL_MARKERS = ("access_key", "secret", "session_token", "password")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_PREFIX_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./")


def _typed_kwargs(cls: type, table: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Check keys against the dataclass fields and coerce numbers; unknown keys are an error."""
    known = {f.name: f for f in fields(cls)}
    out: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known or key in _SECTIONS:
            allowed = sorted(k for k in known if k not in _SECTIONS)
            raise ConfigError(f"unknown key {key!r} in {where}; known keys: {allowed}")
        default = getattr(cls(), key)
        try:
            if isinstance(default, bool):
                out[key] = bool(value)
            elif isinstance(default, int | float) and not isinstance(default, bool):
                out[key] = type(default)(value)
            elif isinstance(default, Path) or key == "config_file":
                out[key] = Path(value)
            elif isinstance(default, tuple):
                out[key] = tuple(value)
            else:
                out[key] = value
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: {key} = {value!r} is not a valid {type(default).__name__}") from exc
    return out


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML config file with a clear error on syntax problems."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {path} does not exist; copy arena.example.toml to start one") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc


def settings_from_toml(raw: Mapping[str, Any], base: Settings | None = None) -> Settings:
    """Apply a parsed TOML document on top of `base`."""
    base = base or Settings()
    unknown = set(raw) - {"arena", "leaderboard", "release", "media", "models"}
    if unknown:
        raise ConfigError(
            f"unknown section(s) {sorted(unknown)} in the config file; "
            "known: arena, leaderboard, release, media, models"
        )
    arena = _typed_kwargs(Settings, _section(raw, "arena"), "[arena]")
    board = _typed_kwargs(LeaderboardSettings, _section(raw, "leaderboard"), "[leaderboard]")
    release = _typed_kwargs(ReleaseSettings, _section(raw, "release"), "[release]")
    media_table = _section(raw, "media")
    for key in media_table:
        if any(marker in key.lower() for marker in _CREDENTIAL_MARKERS):
            raise ConfigError(
                f"[media] {key!r} looks like a credential; the config file never holds credentials: "
                "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment instead"
            )
    media = _typed_kwargs(MediaSettings, media_table, "[media]")
    models = raw.get("models", [])
    if not isinstance(models, list) or not all(isinstance(m, Mapping) for m in models):
        raise ConfigError("[[models]] entries in the config file must be tables")
    return replace(
        base,
        **arena,
        leaderboard=replace(base.leaderboard, **board),
        release=replace(base.release, **release),
        media=replace(base.media, **media),
        models=tuple(models),
    )


def load_settings(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> Settings:
    """Build Settings from the environment and the config file, failing fast with a hint."""
    env = os.environ if environ is None else environ
    cwd = cwd or Path.cwd()
    config_path: Path | None = Path(env["ARENA_CONFIG"]) if env.get("ARENA_CONFIG") else None
    if config_path is None and (cwd / "arena.toml").exists():
        config_path = cwd / "arena.toml"
    settings = Settings(data_dir=cwd / "data")
    if config_path is not None:
        settings = settings_from_toml(read_toml(config_path), settings)
        settings = replace(settings, config_file=config_path)
    overrides: dict[str, Any] = {}
    if env.get("ARENA_DATABASE_URL"):
        overrides["database_url"] = env["ARENA_DATABASE_URL"]
    if env.get("ARENA_HOST"):
        overrides["host"] = env["ARENA_HOST"]
    if env.get("ARENA_PORT"):
        try:
            overrides["port"] = int(env["ARENA_PORT"])
        except ValueError as exc:
            raise ConfigError(f"ARENA_PORT={env['ARENA_PORT']!r} is not a port number (e.g. ARENA_PORT=7860)") from exc
    if env.get("ARENA_DATA_DIR"):
        overrides["data_dir"] = Path(env["ARENA_DATA_DIR"])
    if env.get("ARENA_ADMIN_TOKEN"):
        overrides["admin_token"] = env["ARENA_ADMIN_TOKEN"]
    settings = replace(settings, **overrides)
    validate(settings)
    return settings


def validate(settings: Settings) -> None:
    """Reject settings that cannot work, saying how to fix them."""
    if not 0 < settings.port < 65536:
        raise ConfigError(f"port {settings.port} is out of range; choose 1-65535")
    if settings.max_prompt_chars < 1:
        raise ConfigError("max_prompt_chars must be at least 1")
    if settings.leaderboard.bootstrap_rounds < 0:
        raise ConfigError("[leaderboard] bootstrap_rounds must be >= 0")
    if settings.leaderboard.threads < 1:
        raise ConfigError("[leaderboard] threads must be at least 1")
    if settings.leaderboard.refresh_seconds <= 0:
        raise ConfigError("[leaderboard] refresh_seconds must be > 0")
    validate_media(settings.media)
    url = settings.resolved_database_url
    if not (url.startswith("sqlite") or url.startswith("postgresql")):
        raise ConfigError(f"database URL {url!r}: only sqlite:/// and postgresql+psycopg:// are supported")


def validate_media(media: MediaSettings) -> None:
    """Reject a [media] table that cannot work (the object store itself is only contacted when used)."""
    if media.backend not in MEDIA_BACKENDS:
        raise ConfigError(f"[media] backend = {media.backend!r} is not supported; choose one of {list(MEDIA_BACKENDS)}")
    if media.backend == "s3" and not media.bucket:
        raise ConfigError('[media] backend = "s3" needs a bucket, e.g. bucket = "arena-media"')
    if media.bucket and not _BUCKET.fullmatch(media.bucket):
        raise ConfigError(
            f"[media] bucket = {media.bucket!r} is not a valid bucket name: 3-63 lowercase letters, "
            'digits, dots and hyphens, starting and ending with a letter or digit (e.g. "arena-media")'
        )
    if media.endpoint_url and not media.endpoint_url.startswith(("http://", "https://")):
        raise ConfigError(
            f"[media] endpoint_url = {media.endpoint_url!r} must start with http:// or https:// "
            '(e.g. "http://minio:9000"); leave it empty for AWS S3'
        )
    if "@" in media.endpoint_url:
        raise ConfigError(
            "[media] endpoint_url must not contain credentials; set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY in the environment instead"
        )
    if any(c not in _PREFIX_CHARS for c in media.prefix):
        raise ConfigError(f'[media] prefix = {media.prefix!r} may only use letters, digits and -_./ (e.g. "media/")')
    if media.timeout_s <= 0 or media.max_attempts < 1:
        raise ConfigError("[media] timeout_s must be > 0 and max_attempts at least 1")
