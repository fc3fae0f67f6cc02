"""openai_images against a real local server: b64_json and url answers, validation, limits, errors."""

from __future__ import annotations

import asyncio
import base64
import io
import logging
from typing import Any

import numpy as np
import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from arena.domain import ErrorCode, Finish, GenerationRequest, MediaChunk, Message, Modality
from arena.errors import ConfigError, ProviderError

KEY = "sk-img-test-5a4b3c2d1e0f"


def encoded(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


GRADIENT = Image.fromarray(np.tile(np.arange(0, 256, 16, dtype=np.uint8), (8, 1)), mode="L").convert("RGB")
PNG = encoded(GRADIENT, "PNG")
JPEG = encoded(GRADIENT, "JPEG")
NOISE = encoded(
    Image.fromarray(np.random.default_rng(7).integers(0, 256, (64, 64, 3), dtype=np.uint8)), "PNG"
)
FILES = {"pic.png": PNG, "noise.png": NOISE}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def image_answers(base: str) -> dict[str, Any]:
    return {
        "b64": {"data": [{"b64_json": b64(PNG), "revised_prompt": "a grey gradient"}]},
        "jpeg": {"data": [{"b64_json": b64(JPEG)}]},
        "wrapped": {
            "data": [{"b64_json": "\n".join(b64(PNG)[i : i + 76] for i in range(0, len(b64(PNG)), 76))}]
        },
        "url_rel": {"data": [{"url": "/files/pic.png"}]},
        "url_abs": {"data": [{"url": f"{base}files/pic.png"}]},
        "url_missing": {"data": [{"url": "/files/missing.png"}]},
        "big": {"data": [{"b64_json": b64(NOISE)}]},
        "big_url": {"data": [{"url": "/files/noise.png"}]},
        "undecodable": {"data": [{"b64_json": b64(b"this is not an image, just some text bytes")}]},
        "truncated": {"data": [{"b64_json": b64(PNG[: len(PNG) // 2])}]},
        "bad_b64": {"data": [{"b64_json": "@@not base64@@"}]},
        "empty": {"data": []},
        "neither": {"data": [{"revised_prompt": "x"}]},
    }


async def generations(request: Request) -> Response:
    scenario = request.path_params["scenario"]
    await request.body()
    if scenario == "policy":
        error = {
            "message": "Your request was rejected by the safety system.",
            "code": "content_policy_violation",
        }
        return JSONResponse({"error": error}, status_code=400)
    if scenario == "not_json":
        return PlainTextResponse("oops")
    if scenario == "hang":
        await asyncio.sleep(30)
    return JSONResponse(image_answers(str(request.base_url))[scenario])


async def files(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in FILES:
        return JSONResponse({"error": {"message": "no such file"}}, status_code=404)
    return Response(FILES[name], media_type="image/png")


@pytest.fixture(scope="module")
def server(serve):
    return serve(
        Starlette(
            routes=[
                Route("/{scenario}/v1/images/generations", generations, methods=["POST"]),
                Route("/files/{name}", files),
            ]
        )
    )


def generate_image(generate, server, scenario: str, **options: Any) -> list[Any]:
    opts = {"base_url": f"{server.url}/{scenario}/v1", "model": "tiny-diffusion", "retries": 0, **options}
    request = GenerationRequest(messages=(Message("user", "a grey gradient"),), modality=Modality.IMAGE)
    return generate("openai_images", opts, request)


def failure(generate, server, scenario: str, **options: Any) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        generate_image(generate, server, scenario, **options)
    return info.value


def test_b64_json_image(generate, server):
    chunks = generate_image(generate, server, "b64")
    assert chunks == [
        MediaChunk(
            PNG, "image/png", {"width": 16, "height": 8, "format": "PNG", "revised_prompt": "a grey gradient"}
        ),
        Finish(),
    ]


def test_request_body(generate, server):
    generate_image(generate, server, "b64", size="512x512", quality="hd", extra_body={"steps": 4, "n": 3})
    body = server.last("/b64/v1/images/generations").json()
    assert body == {
        "model": "tiny-diffusion",
        "prompt": "a grey gradient",
        "n": 1,
        "size": "512x512",
        "quality": "hd",
        "response_format": "b64_json",
        "steps": 4,
    }


def test_response_format_can_be_omitted(generate, server):
    generate_image(generate, server, "b64", response_format="")
    assert "response_format" not in server.last("/b64/v1/images/generations").json()


def test_jpeg_and_line_wrapped_base64(generate, server):
    assert generate_image(generate, server, "jpeg")[0].mime == "image/jpeg"
    assert generate_image(generate, server, "wrapped")[0].data == PNG


@pytest.mark.parametrize("scenario", ["url_rel", "url_abs"])
def test_url_answer_is_fetched_without_the_api_key(generate, server, scenario, caplog):
    caplog.set_level(logging.DEBUG)
    before = server.hits("/files/pic.png")
    opts = {"base_url": f"{server.url}/{scenario}/v1", "model": "m", "api_key_env": "IMG_KEY"}
    request = GenerationRequest(messages=(Message("user", "a grey gradient"),), modality=Modality.IMAGE)
    chunks = generate("openai_images", opts, request, environ={"IMG_KEY": KEY})
    assert chunks[0].data == PNG and chunks[0].meta["width"] == 16
    assert server.hits("/files/pic.png") == before + 1
    assert server.last(f"/{scenario}/v1/images/generations").headers["authorization"] == f"Bearer {KEY}"
    assert "authorization" not in server.last("/files/pic.png").headers
    assert all(KEY not in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(
    ("scenario", "options", "expected"),
    [
        ("undecodable", {}, ErrorCode.MALFORMED),
        ("truncated", {}, ErrorCode.MALFORMED),
        ("bad_b64", {}, ErrorCode.MALFORMED),
        ("neither", {}, ErrorCode.MALFORMED),
        ("not_json", {}, ErrorCode.MALFORMED),
        ("empty", {}, ErrorCode.EMPTY),
        ("big", {"max_bytes": 4096}, ErrorCode.TOO_LARGE),
        ("big_url", {"max_bytes": 4096}, ErrorCode.TOO_LARGE),
        ("url_missing", {}, ErrorCode.NOT_FOUND),
        ("policy", {}, ErrorCode.CONTENT_FILTER),
        ("hang", {"read_timeout": 0.3}, ErrorCode.TIMEOUT),
    ],
)
def test_failures_have_typed_codes(generate, server, scenario, options, expected):
    assert failure(generate, server, scenario, **options).code is expected


def test_size_limit_is_checked_before_decoding_and_says_what_to_do(generate, server):
    error = failure(generate, server, "big", max_bytes=4096)
    assert "max_bytes=4096" in error.message
    assert len(NOISE) > 4096, "the fixture must really be larger than the limit"
    assert generate_image(generate, server, "big")[0].data == NOISE


def test_content_policy_message_is_quoted(generate, server):
    assert "safety system" in failure(generate, server, "policy").message


@pytest.mark.parametrize("bad", [{"response_format": "png"}, {"max_bytes": 0}, {"size": 512}, {"steps": 4}])
def test_invalid_options(generate, server, bad):
    with pytest.raises(ConfigError):
        generate_image(generate, server, "b64", **bad)
