"""Generate music through the arena's JSON-over-HTTP text-to-music protocol (documented in docs/providers.md).

    POST {base_url}/generate   {"prompt", "duration_s", "instrumental", "lyrics"?, "seed"?, "model"?}
        200 audio/wav body                                     -> the clip
        200 application/json {"audio_b64", "format": "wav", "sample_rate"?}
        4xx/5xx {"error": {"message": "..."}}
    GET  {base_url}/info       {"lyrics": bool, "instrumental": bool, "max_duration_s": number|null}

The clip must decode as PCM WAV with at least one frame and fit in max_bytes. Music cannot stream,
so the provider yields one MediaChunk and a Finish.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar

import httpx

from arena.domain import Capabilities, Chunk, ErrorCode, Finish, GenerationRequest, MediaChunk, ModelSpec
from arena.errors import ProviderError
from arena.providers.base import Provider, ProviderContext
from arena.providers.http_common import (
    HTTP_OPTION_NAMES,
    auth_headers,
    check_status,
    http_settings,
    int_option,
    json_object,
    mapping_option,
    number_option,
    open_response,
    read_capped,
    str_option,
)
from arena.providers.media_checks import decode_base64, inspect_wav

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
NOT_FOUND_HINT = "check base_url: the server must answer POST {base_url}/generate (see docs/providers.md)"


class HttpMusicProvider(Provider):
    """A text-to-music model behind a server that speaks the arena's music protocol."""

    option_names: ClassVar[frozenset[str]] = HTTP_OPTION_NAMES | frozenset(
        {"model", "max_bytes", "default_duration_s", "extra_body"}
    )
    required_options: ClassVar[frozenset[str]] = frozenset({"base_url"})
    default_capabilities: ClassVar[Capabilities] = Capabilities(streaming=False, multi_turn=False)

    def __init__(self, spec: ModelSpec, context: ProviderContext) -> None:
        super().__init__(spec, context)
        self.settings = http_settings(spec, read_timeout=300.0)
        self.model = str_option(spec, "model")
        self.max_bytes = (
            int_option(spec, "max_bytes", DEFAULT_MAX_BYTES, low=1, high=1 << 31) or DEFAULT_MAX_BYTES
        )
        self.default_duration_s = number_option(spec, "default_duration_s", 10.0, low=0.1, high=3600) or 10.0
        self.extra_body = dict(mapping_option(spec, "extra_body"))

    def build_payload(self, request: GenerationRequest) -> dict[str, Any]:
        """The /generate body from the prompt and the request options (duration_s, instrumental, lyrics)."""
        options = request.options
        duration = options.get("duration_s", self.default_duration_s)
        instrumental = options.get("instrumental", True)
        lyrics = options.get("lyrics")
        if isinstance(duration, bool) or not isinstance(duration, int | float) or duration <= 0:
            raise self._bad_request(f"duration_s must be a positive number, got {duration!r}")
        if not isinstance(instrumental, bool):
            raise self._bad_request(f"instrumental must be true or false, got {instrumental!r}")
        if lyrics is not None and not isinstance(lyrics, str):
            raise self._bad_request("lyrics must be text")
        self._check_capabilities(float(duration), lyrics, instrumental)
        payload: dict[str, Any] = {
            **self.extra_body,
            "prompt": request.prompt.strip(),
            "duration_s": float(duration),
            "instrumental": instrumental,
        }
        optional = {"lyrics": lyrics or None, "seed": request.seed, "model": self.model}
        payload.update({key: value for key, value in optional.items() if value is not None})
        return payload

    def _check_capabilities(self, duration: float, lyrics: str | None, instrumental: bool) -> None:
        """Refuse what the catalogue says this model cannot do (routing should not have sent it)."""
        capabilities = self.spec.capabilities
        if capabilities.max_duration_s is not None and duration > capabilities.max_duration_s:
            raise self._bad_request(f"{duration:g}s is longer than this model's max_duration_s")
        if lyrics and not capabilities.lyrics:
            raise self._bad_request("this model does not sing lyrics (capabilities.lyrics = false)")
        if instrumental and not capabilities.instrumental:
            raise self._bad_request(
                "this model does not make instrumentals (capabilities.instrumental = false)"
            )

    def _bad_request(self, what: str) -> ProviderError:
        return ProviderError(ErrorCode.BAD_REQUEST, f"model {self.spec.name!r}: {what}")

    async def generate(self, request: GenerationRequest) -> AsyncIterator[Chunk]:
        """Yield one validated WAV MediaChunk (meta: duration_s, sample_rate, channels) and a Finish."""
        payload = self.build_payload(request)
        if not payload["prompt"] and not payload.get("lyrics"):
            raise self._bad_request("the request has neither a prompt nor lyrics")
        api_key = self.api_key()
        http_request = self.context.http.build_request(
            "POST",
            f"{self.settings.base_url}/generate",
            json=payload,
            headers={**auth_headers(self.settings, api_key), "Accept": "audio/wav, application/json"},
            timeout=self.settings.timeout,
        )
        response = await open_response(self.context.http, http_request, self.settings)
        try:
            await check_status(response, self.settings, secret=api_key, not_found_hint=NOT_FOUND_HINT)
            data = await self._audio_bytes(response)
        finally:
            await response.aclose()
        info = await asyncio.to_thread(inspect_wav, data, max_bytes=self.max_bytes)
        meta = {
            "duration_s": round(info.duration_s, 3),
            "sample_rate": info.sample_rate,
            "channels": info.channels,
            "requested_duration_s": payload["duration_s"],
        }
        yield MediaChunk(data=data, mime=info.mime, meta=meta)
        yield Finish()

    async def _audio_bytes(self, response: httpx.Response) -> bytes:
        """The WAV bytes, from a raw audio body or from the JSON form's audio_b64."""
        if "json" not in response.headers.get("content-type", ""):
            return await read_capped(response, self.settings, limit=self.max_bytes, what="audio clip")
        limit = self.max_bytes * 4 // 3 + 64 * 1024
        body = json_object(
            await read_capped(response, self.settings, limit=limit, what="audio response"),
            self.settings,
            "audio response",
        )
        audio_format = str(body.get("format", "wav")).lower()
        if audio_format != "wav":
            raise ProviderError(
                ErrorCode.MALFORMED,
                f"model {self.spec.name!r}: the server sent {audio_format!r} audio; "
                "the protocol requires wav",
            )
        return decode_base64(body.get("audio_b64"), max_bytes=self.max_bytes, what="audio clip (audio_b64)")

    async def probe_capabilities(self) -> Capabilities:
        """Ask the server what it can do (GET {base_url}/info), for `arena models` and catalogue checks."""
        api_key = self.api_key()
        http_request = self.context.http.build_request(
            "GET",
            f"{self.settings.base_url}/info",
            headers=auth_headers(self.settings, api_key),
            timeout=self.settings.timeout,
        )
        response = await open_response(self.context.http, http_request, self.settings)
        try:
            await check_status(response, self.settings, secret=api_key, not_found_hint=NOT_FOUND_HINT)
            info = json_object(
                await read_capped(response, self.settings, limit=64 * 1024, what="info response"),
                self.settings,
                "info response",
            )
        finally:
            await response.aclose()
        return self._capabilities_from_info(info)

    def _capabilities_from_info(self, info: Mapping[str, Any]) -> Capabilities:
        lyrics, instrumental = info.get("lyrics", False), info.get("instrumental", True)
        max_duration = info.get("max_duration_s")
        valid_duration = max_duration is None or (
            isinstance(max_duration, int | float) and not isinstance(max_duration, bool) and max_duration > 0
        )
        if not isinstance(lyrics, bool) or not isinstance(instrumental, bool) or not valid_duration:
            raise ProviderError(
                ErrorCode.MALFORMED,
                f"model {self.spec.name!r}: /info must be "
                "{lyrics: bool, instrumental: bool, max_duration_s: number|null}",
            )
        return Capabilities(
            streaming=False,
            multi_turn=False,
            lyrics=lyrics,
            instrumental=instrumental,
            max_duration_s=float(max_duration) if max_duration is not None else None,
        )
