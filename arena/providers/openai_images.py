"""Generate one image through an OpenAI-compatible /images/generations endpoint and check it decodes.

The server may answer with `b64_json` or with a `url`; a URL is fetched with the same injected client,
without the API key (image URLs are often signed links on another host, which must never see the key).
Relative URLs are resolved against base_url. Images cannot stream, so the provider yields one
MediaChunk and a Finish.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar

import httpx

from arena.domain import Capabilities, Chunk, ErrorCode, Finish, GenerationRequest, MediaChunk, ModelSpec
from arena.errors import ConfigError, ProviderError
from arena.providers.base import Provider, ProviderContext
from arena.providers.http_common import (
    HTTP_OPTION_NAMES,
    auth_headers,
    check_status,
    http_settings,
    int_option,
    json_object,
    mapping_option,
    open_response,
    read_capped,
    str_option,
)
from arena.providers.media_checks import decode_base64, inspect_image

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
NOT_FOUND_HINT = "check that base_url ends with /v1 and that the server serves this image model"
URL_NOT_FOUND_HINT = "the image URL the server returned does not exist (expired?); check the server"


class OpenAIImagesProvider(Provider):
    """A text-to-image model behind an OpenAI-compatible images API."""

    option_names: ClassVar[frozenset[str]] = HTTP_OPTION_NAMES | frozenset(
        {"model", "size", "quality", "style", "response_format", "max_bytes", "extra_body"}
    )
    required_options: ClassVar[frozenset[str]] = frozenset({"base_url", "model"})
    default_capabilities: ClassVar[Capabilities] = Capabilities(streaming=False, multi_turn=False)

    def __init__(self, spec: ModelSpec, context: ProviderContext) -> None:
        super().__init__(spec, context)
        self.settings = http_settings(spec, read_timeout=180.0)
        self.model = str_option(spec, "model") or ""
        self.size = str_option(spec, "size", "1024x1024") or ""
        self.quality = str_option(spec, "quality")
        self.style = str_option(spec, "style")
        self.response_format = str_option(spec, "response_format", "b64_json") or ""
        if self.response_format not in {"", "b64_json", "url"}:
            raise ConfigError(
                f'model {spec.name!r}: option \'response_format\' must be "b64_json", "url" or "" (omit it)'
            )
        self.max_bytes = (
            int_option(spec, "max_bytes", DEFAULT_MAX_BYTES, low=1, high=1 << 31) or DEFAULT_MAX_BYTES
        )
        self.extra_body = dict(mapping_option(spec, "extra_body"))

    def build_payload(self, prompt: str) -> dict[str, Any]:
        """The JSON body; extra_body first so that the arena's fields win."""
        payload: dict[str, Any] = {**self.extra_body, "model": self.model, "prompt": prompt, "n": 1}
        optional = {
            "size": self.size,
            "quality": self.quality,
            "style": self.style,
            "response_format": self.response_format,
        }
        payload.update({key: value for key, value in optional.items() if value})
        return payload

    async def generate(self, request: GenerationRequest) -> AsyncIterator[Chunk]:
        """Yield one validated MediaChunk (image bytes, MIME, width/height) and a Finish."""
        prompt = request.prompt.strip()
        if not prompt:
            raise ProviderError(ErrorCode.BAD_REQUEST, f"model {self.spec.name!r}: the request has no prompt")
        api_key = self.api_key()
        http_request = self.context.http.build_request(
            "POST",
            f"{self.settings.base_url}/images/generations",
            json=self.build_payload(prompt),
            headers=auth_headers(self.settings, api_key),
            timeout=self.settings.timeout,
        )
        response = await open_response(self.context.http, http_request, self.settings)
        try:
            await check_status(response, self.settings, secret=api_key, not_found_hint=NOT_FOUND_HINT)
            limit = self.max_bytes * 4 // 3 + 64 * 1024
            body = await read_capped(response, self.settings, limit=limit, what="image response")
        finally:
            await response.aclose()
        item = self._first_item(json_object(body, self.settings, "image response"))
        data = await self._image_bytes(item)
        info = await asyncio.to_thread(inspect_image, data, max_bytes=self.max_bytes)
        meta: dict[str, Any] = {"width": info.width, "height": info.height, "format": info.format}
        if isinstance(item.get("revised_prompt"), str):
            meta["revised_prompt"] = item["revised_prompt"]
        yield MediaChunk(data=data, mime=info.mime, meta=meta)
        yield Finish()

    def _first_item(self, payload: Mapping[str, Any]) -> Mapping[str, Any]:
        """The first entry of `data`, which must carry `b64_json` or `url`."""
        data = payload.get("data")
        if not isinstance(data, list) or not data or not isinstance(data[0], dict):
            raise ProviderError(
                ErrorCode.EMPTY if data == [] else ErrorCode.MALFORMED,
                f"model {self.spec.name!r}: the image response has no 'data' entries; "
                "check the server's logs",
            )
        item: Mapping[str, Any] = data[0]
        if not item.get("b64_json") and not item.get("url"):
            raise ProviderError(
                ErrorCode.MALFORMED,
                f"model {self.spec.name!r}: the image entry has neither 'b64_json' nor 'url'",
            )
        return item

    async def _image_bytes(self, item: Mapping[str, Any]) -> bytes:
        """Decode the inline image, or download it from the URL the server gave."""
        if item.get("b64_json"):
            return decode_base64(item["b64_json"], max_bytes=self.max_bytes, what="image (b64_json)")
        if str(item["url"]).startswith("data:"):
            return decode_base64(item["url"], max_bytes=self.max_bytes, what="image (data: URL)")
        url = httpx.URL(self.settings.base_url + "/").join(str(item["url"]))
        if url.scheme not in {"http", "https"}:
            raise ProviderError(
                ErrorCode.MALFORMED, f"model {self.spec.name!r}: the image URL is not http(s): {url.scheme}:"
            )
        http_request = self.context.http.build_request(
            "GET", url, headers=dict(self.settings.headers), timeout=self.settings.timeout
        )
        response = await open_response(self.context.http, http_request, self.settings)
        try:
            await check_status(response, self.settings, secret=None, not_found_hint=URL_NOT_FOUND_HINT)
            return await read_capped(response, self.settings, limit=self.max_bytes, what="image")
        finally:
            await response.aclose()
