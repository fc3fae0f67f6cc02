"""http_common: vendor error shapes, redaction and option validation shared by the HTTP adapters."""

from __future__ import annotations

import pytest

from arena.domain import Modality, ModelSpec
from arena.errors import ConfigError
from arena.providers.http_common import VendorError, http_settings, parse_vendor_error, redact


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            b'{"error": {"message": "bad model", "code": "model_not_found"}}',
            VendorError("bad model", "model_not_found"),
        ),
        (b'{"error": {"message": "slow down", "type": "requests"}}', VendorError("slow down", "requests")),
        (b'{"error": "model \\"x\\" not found"}', VendorError('model "x" not found')),
        (b'{"detail": "Not Found"}', VendorError("Not Found")),
        (b'{"message": "Unauthorized"}', VendorError("Unauthorized")),
        (b"<html>502 Bad Gateway</html>", VendorError("<html>502 Bad Gateway</html>")),
        (b"", VendorError("")),
        (b"[1, 2]", VendorError("[1, 2]")),
    ],
)
def test_parse_vendor_error_shapes(body, expected):
    assert parse_vendor_error(body) == expected


def test_long_vendor_messages_are_cut():
    assert len(parse_vendor_error(b'{"error": {"message": "' + b"x" * 5000 + b'"}}').message) == 500


def test_redact():
    assert redact("key sk-abc used twice: sk-abc", "sk-abc") == "key [redacted] used twice: [redacted]"
    assert redact("nothing", None) == "nothing"


def spec(**options: object) -> ModelSpec:
    return ModelSpec(
        "m", Modality.TEXT, "openai_chat", options={"base_url": "http://127.0.0.1:1/v1/", **options}
    )


def test_settings_defaults_and_trailing_slash():
    settings = http_settings(spec(), read_timeout=60.0)
    assert settings.base_url == "http://127.0.0.1:1/v1"
    assert (settings.timeout.connect, settings.timeout.read, settings.retries) == (5.0, 60.0, 2)


def test_settings_from_options():
    settings = http_settings(
        spec(connect_timeout=1, read_timeout=2.5, retries=0, headers={"X-A": "b"}), read_timeout=9
    )
    assert (settings.timeout.connect, settings.timeout.read, settings.retries) == (1.0, 2.5, 0)
    assert dict(settings.headers) == {"X-A": "b"}


@pytest.mark.parametrize(
    "bad",
    [
        {"base_url": "ftp://x"},
        {"base_url": 8000},
        {"connect_timeout": 0},
        {"retries": 11},
        {"retries": 1.5},
        {"headers": {"X-Api-Key": "secret"}},
        {"headers": {"X-A": 1}},
        {"headers": "X-A: b"},
        {"api_key_env": 3},
    ],
)
def test_invalid_settings(bad):
    with pytest.raises(ConfigError):
        http_settings(spec(**bad), read_timeout=60.0)
