"""Plumbing shared by the HTTP adapters: typed options, connect-only retries and vendor-error translation.

Retry rule: a request is retried only when the TCP connection could not be made (nothing reached the
server). Once the request was sent, or any byte came back, a failure is final, so a model is never
billed twice and a half-streamed answer is never stitched to another one.

API keys: read from the environment for each request (Provider.api_key), put in the Authorization header
and nowhere else; vendor messages that echo the key are redacted before they go into an error.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import httpx

from arena.domain import ErrorCode, ModelSpec
from arena.errors import ConfigError, ProviderError
from arena.providers.media_checks import check_size

logger = logging.getLogger(__name__)

HTTP_OPTION_NAMES = frozenset(
    {"base_url", "api_key_env", "headers", "connect_timeout", "read_timeout", "retries"}
)
RETRY_BACKOFF_S = 0.2
ERROR_BODY_LIMIT = 64 * 1024

_STATUS_CODES: Mapping[int, ErrorCode] = MappingProxyType(
    {
        401: ErrorCode.AUTH,
        403: ErrorCode.AUTH,
        404: ErrorCode.NOT_FOUND,
        408: ErrorCode.TIMEOUT,
        429: ErrorCode.RATE_LIMITED,
    }
)
_CONTENT_FILTER_CODES = frozenset({"content_filter", "content_policy_violation", "moderation_blocked"})
_HINTS: Mapping[ErrorCode, str] = MappingProxyType(
    {
        ErrorCode.AUTH: "check the API key in the environment variable named by api_key_env",
        ErrorCode.BAD_REQUEST: "the server rejected the request; check this model's options in arena.toml",
        ErrorCode.RATE_LIMITED: "the server is rate limiting or out of quota; wait, or lower the weight",
        ErrorCode.SERVER_ERROR: "the model server failed; check its logs and try again later",
        ErrorCode.TIMEOUT: "the server is slow or overloaded; raise read_timeout or check the server",
        ErrorCode.CONTENT_FILTER: "the server's safety filter refused this prompt; try another prompt",
    }
)


@dataclass(frozen=True)
class HttpSettings:
    """The validated connection options of one catalogue model."""

    model_name: str
    base_url: str
    timeout: httpx.Timeout
    retries: int
    headers: Mapping[str, str]


def str_option(spec: ModelSpec, name: str, default: str | None = None) -> str | None:
    """A string option, or `default` when absent; anything but a string is a ConfigError."""
    value = spec.options.get(name, default)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"model {spec.name!r}: option {name!r} must be a string, got {value!r}")
    return value


def number_option(
    spec: ModelSpec, name: str, default: float | None, *, low: float, high: float
) -> float | None:
    """A number option within [low, high], or `default` when absent."""
    value = spec.options.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(
            f"model {spec.name!r}: option {name!r} must be a number in [{low}, {high}], got {value!r}"
        )
    return float(value)


def int_option(spec: ModelSpec, name: str, default: int | None, *, low: int, high: int) -> int | None:
    """An integer option within [low, high], or `default` when absent."""
    value = spec.options.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(
            f"model {spec.name!r}: option {name!r} must be an integer in [{low}, {high}], got {value!r}"
        )
    return value


def mapping_option(spec: ModelSpec, name: str) -> Mapping[str, Any]:
    """A table option (TOML inline table), empty when absent."""
    value = spec.options.get(name, {})
    if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
        raise ConfigError(f"model {spec.name!r}: option {name!r} must be a table with string keys")
    return value


def http_settings(spec: ModelSpec, *, read_timeout: float, connect_timeout: float = 5.0) -> HttpSettings:
    """Validate the connection options shared by every HTTP adapter (fail fast at startup)."""
    base_url = (str_option(spec, "base_url") or "").rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError(
            f"model {spec.name!r}: option 'base_url' must be an http:// or https:// URL, got {base_url!r}"
        )
    headers = mapping_option(spec, "headers")
    if not all(isinstance(value, str) for value in headers.values()):
        raise ConfigError(f"model {spec.name!r}: every value in option 'headers' must be a string")
    if any(key.lower() in {"authorization", "api-key", "x-api-key"} for key in headers):
        raise ConfigError(
            f"model {spec.name!r}: do not put credentials in 'headers'; name the environment variable that "
            "holds the key in 'api_key_env' instead"
        )
    str_option(spec, "api_key_env")
    connect = number_option(spec, "connect_timeout", connect_timeout, low=0.01, high=600)
    read = number_option(spec, "read_timeout", read_timeout, low=0.01, high=3600)
    retries = int_option(spec, "retries", 2, low=0, high=10)
    assert connect is not None and read is not None and retries is not None
    return HttpSettings(
        model_name=spec.name,
        base_url=base_url,
        timeout=httpx.Timeout(connect=connect, read=read, write=read, pool=connect),
        retries=retries,
        headers=MappingProxyType(dict(headers)),
    )


def auth_headers(settings: HttpSettings, api_key: str | None) -> dict[str, str]:
    """Headers for one request: the configured extras plus the bearer token, if the model has a key."""
    headers = {"Accept": "application/json, text/event-stream", **settings.headers}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return headers


def redact(text: str, secret: str | None) -> str:
    """Remove a secret from text that may be shown or logged."""
    return text.replace(secret, "[redacted]") if secret else text


def transport_error(exc: httpx.RequestError, settings: HttpSettings, during: str) -> ProviderError:
    """Translate an httpx failure into a ProviderError with a typed code and a next step."""
    name = settings.model_name
    if isinstance(exc, httpx.ConnectTimeout):
        return ProviderError(
            ErrorCode.TIMEOUT,
            f"model {name!r}: no connection to {settings.base_url} within connect_timeout="
            f"{settings.timeout.connect}s; check the server is up or raise connect_timeout",
        )
    if isinstance(exc, httpx.TimeoutException):
        return ProviderError(
            ErrorCode.TIMEOUT,
            f"model {name!r}: the server sent nothing for read_timeout={settings.timeout.read}s {during}; "
            f"{_HINTS[ErrorCode.TIMEOUT]}",
        )
    if isinstance(exc, httpx.ConnectError):
        return ProviderError(
            ErrorCode.CONNECTION,
            f"model {name!r}: cannot connect to {settings.base_url} ({exc}); is the server running and "
            "base_url right?",
        )
    if isinstance(exc, httpx.DecodingError):
        return ProviderError(
            ErrorCode.MALFORMED, f"model {name!r}: the response could not be decoded {during} ({exc})"
        )
    return ProviderError(
        ErrorCode.CONNECTION,
        f"model {name!r}: the connection to {settings.base_url} dropped {during} "
        f"({type(exc).__name__}: {exc}); the server may have crashed or restarted; try again",
    )


async def open_response(
    client: httpx.AsyncClient, request: httpx.Request, settings: HttpSettings
) -> httpx.Response:
    """Send `request` and return the response with its body unread (the caller closes it).

    Retries only when the connection could not be established; every other failure raises at once.
    """
    attempts = settings.retries + 1
    for attempt in range(1, attempts + 1):
        try:
            return await client.send(request, stream=True)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            if attempt == attempts:
                raise transport_error(exc, settings, "while connecting") from exc
            logger.info(
                "model %r: connecting to %s failed (%s); retry %d of %d",
                settings.model_name,
                settings.base_url,
                type(exc).__name__,
                attempt,
                settings.retries,
            )
            await asyncio.sleep(RETRY_BACKOFF_S * 2 ** (attempt - 1))
        except httpx.RequestError as exc:
            raise transport_error(exc, settings, "while waiting for the response") from exc
    raise AssertionError("unreachable: the loop returns or raises")


async def read_capped(response: httpx.Response, settings: HttpSettings, *, limit: int, what: str) -> bytes:
    """Read the whole body, refusing (TOO_LARGE) as soon as it passes `limit` bytes."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit():
        check_size(int(declared), limit, what)
    body = bytearray()
    try:
        async for piece in response.aiter_bytes():
            body.extend(piece)
            check_size(len(body), limit, what)
    except httpx.RequestError as exc:
        raise transport_error(exc, settings, f"while reading the {what}") from exc
    return bytes(body)


@dataclass(frozen=True)
class VendorError:
    """The error a server described in its body, if it described one."""

    message: str = ""
    code: str = ""


def parse_vendor_error(body: bytes) -> VendorError:
    """Pull the message out of the error shapes servers use.

    OpenAI/vLLM/llama.cpp: {"error": {"message", "code", "type"}}; Ollama (native): {"error": "..."};
    FastAPI: {"detail": ...}; anything else: the start of the body text.
    """
    text = body.decode("utf-8", errors="replace").strip()
    try:
        payload = json.loads(text) if text else None
    except json.JSONDecodeError:
        return VendorError(message=text[:300])
    if not isinstance(payload, dict):
        return VendorError(message=text[:300])
    error = payload.get("error", payload.get("detail", payload.get("message", "")))
    if isinstance(error, dict):
        message = error.get("message", "")
        code = error.get("code") or error.get("type") or ""
        return VendorError(message=str(message)[:500], code=str(code))
    return VendorError(message=str(error)[:500] if error else text[:300])


async def check_status(
    response: httpx.Response, settings: HttpSettings, *, secret: str | None, not_found_hint: str
) -> None:
    """Raise a ProviderError for a 4xx/5xx response, quoting the vendor's message (key redacted)."""
    status = response.status_code
    if status < 400:
        return
    body = b""
    try:
        body = await read_capped(response, settings, limit=ERROR_BODY_LIMIT, what="error body")
    except ProviderError:
        logger.debug("model %r: could not read the body of an HTTP %d error", settings.model_name, status)
    vendor = parse_vendor_error(body)
    code = _STATUS_CODES.get(status, ErrorCode.SERVER_ERROR if status >= 500 else ErrorCode.BAD_REQUEST)
    if code is ErrorCode.BAD_REQUEST and vendor.code in _CONTENT_FILTER_CODES:
        code = ErrorCode.CONTENT_FILTER
    hint = not_found_hint if code is ErrorCode.NOT_FOUND else _HINTS.get(code, "")
    retry_after = response.headers.get("retry-after", "")
    if code is ErrorCode.RATE_LIMITED and retry_after:
        hint = f"{hint} (the server asks to retry after {retry_after}s)"
    said = f": {vendor.message}" if vendor.message else ""
    message = f"model {settings.model_name!r}: HTTP {status} from {settings.base_url}{said}; {hint}"
    raise ProviderError(code, redact(message, secret))


def json_object(body: bytes, settings: HttpSettings, what: str) -> dict[str, Any]:
    """Parse a response body that must be one JSON object, or fail with MALFORMED."""
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ProviderError(
            ErrorCode.MALFORMED,
            f"model {settings.model_name!r}: the {what} is not valid JSON ({exc}); "
            "check base_url and the server",
        ) from exc
    if not isinstance(payload, dict):
        raise ProviderError(
            ErrorCode.MALFORMED, f"model {settings.model_name!r}: the {what} is not a JSON object"
        )
    return payload
