"""http_music against a real local server implementing the arena's text-to-music protocol."""

from __future__ import annotations

import asyncio
import base64
import io
import wave
from typing import Any

import httpx
import numpy as np
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from arena.domain import (
    Capabilities,
    ErrorCode,
    Finish,
    GenerationRequest,
    MediaChunk,
    Message,
    Modality,
    ModelSpec,
)
from arena.errors import ProviderError
from arena.providers.base import ProviderContext
from arena.providers.http_music import HttpMusicProvider

RATE = 8000


def sine_wav(duration_s: float, seed: int = 0, channels: int = 1) -> bytes:
    """A real PCM clip of the requested length; the seed picks the pitch, as a model's seed would."""
    frames = round(duration_s * RATE)
    pitch = 220.0 * 2 ** ((seed % 12) / 12)
    tone = 0.3 * np.sin(2 * np.pi * pitch * np.arange(frames) / RATE)
    samples = np.repeat((tone * 32767).astype("<i2")[:, None], channels, axis=1)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as clip:
        clip.setnchannels(channels)
        clip.setsampwidth(2)
        clip.setframerate(RATE)
        clip.writeframes(samples.tobytes())
    return buffer.getvalue()


def as_wav(data: bytes) -> Response:
    return Response(data, media_type="audio/wav")


async def generate_route(request: Request) -> Response:
    scenario = request.path_params["scenario"]
    body = await request.json()
    clip = sine_wav(body["duration_s"], body.get("seed", 0))
    answers = {
        "wav": lambda: as_wav(clip),
        "stereo": lambda: as_wav(sine_wav(body["duration_s"], channels=2)),
        "json": lambda: JSONResponse(
            {"audio_b64": base64.b64encode(clip).decode(), "format": "wav", "sample_rate": RATE}
        ),
        "mp3": lambda: JSONResponse(
            {"audio_b64": base64.b64encode(b"ID3\x03fake").decode(), "format": "mp3"}
        ),
        "garbage": lambda: as_wav(b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk"),
        "zero": lambda: as_wav(sine_wav(0.0)),
        "truncated": lambda: as_wav(clip[: len(clip) // 2]),
        "json_no_audio": lambda: JSONResponse({"format": "wav"}),
        "bad_request": lambda: JSONResponse(
            {"error": {"message": "duration_s must be at most 30"}}, status_code=422
        ),
        "busy": lambda: JSONResponse({"error": {"message": "all GPUs are busy"}}, status_code=503),
    }
    if scenario == "hang":
        await asyncio.sleep(30)
    return answers[scenario]()


async def info_route(request: Request) -> Response:
    infos = {
        "good": {"lyrics": True, "instrumental": True, "max_duration_s": 30},
        "minimal": {},
        "bad": {"lyrics": "yes", "max_duration_s": -3},
    }
    return JSONResponse(infos[request.path_params["scenario"]])


@pytest.fixture(scope="module")
def server(serve):
    return serve(
        Starlette(
            routes=[
                Route("/{scenario}/generate", generate_route, methods=["POST"]),
                Route("/{scenario}/info", info_route),
            ]
        )
    )


def music_request(
    prompt: str = "calm piano in C major", seed: int | None = None, **options: Any
) -> GenerationRequest:
    return GenerationRequest(
        messages=(Message("user", prompt),), modality=Modality.MUSIC, options=options, seed=seed
    )


def compose(
    generate, server, scenario: str, request: GenerationRequest | None = None, **kwargs: Any
) -> list[Any]:
    capabilities = kwargs.pop("capabilities", None)
    opts = {"base_url": f"{server.url}/{scenario}", "retries": 0, **kwargs}
    return generate("http_music", opts, request or music_request(duration_s=1.5), capabilities=capabilities)


def failure(
    generate, server, scenario: str, request: GenerationRequest | None = None, **kwargs: Any
) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        compose(generate, server, scenario, request, **kwargs)
    return info.value


def test_wav_response(generate, server):
    chunks = compose(generate, server, "wav", music_request(duration_s=1.5, instrumental=True))
    media = chunks[0]
    assert isinstance(media, MediaChunk) and media.mime == "audio/wav" and chunks[1] == Finish()
    assert media.meta == {"duration_s": 1.5, "sample_rate": RATE, "channels": 1, "requested_duration_s": 1.5}
    assert media.data == sine_wav(1.5)
    body = server.last("/wav/generate").json()
    assert body == {"prompt": "calm piano in C major", "duration_s": 1.5, "instrumental": True}


def test_lyrics_seed_and_model_are_forwarded(generate, server):
    request = music_request("upbeat folk", seed=5, duration_s=2, instrumental=False, lyrics="la la la")
    chunks = compose(
        generate, server, "wav", request, model="folk-v1", capabilities=Capabilities(lyrics=True)
    )
    assert chunks[0].meta["duration_s"] == 2.0 and chunks[0].data == sine_wav(2, seed=5)
    body = server.last("/wav/generate").json()
    assert body == {
        "prompt": "upbeat folk",
        "duration_s": 2.0,
        "instrumental": False,
        "lyrics": "la la la",
        "seed": 5,
        "model": "folk-v1",
    }


def test_default_duration_option(generate, server):
    chunks = compose(generate, server, "json", music_request(), default_duration_s=0.5)
    assert chunks[0].meta["duration_s"] == 0.5 and server.last("/json/generate").json()["duration_s"] == 0.5


def test_json_audio_b64_and_stereo(generate, server):
    assert compose(generate, server, "json")[0].data == sine_wav(1.5)
    assert compose(generate, server, "stereo")[0].meta["channels"] == 2


@pytest.mark.parametrize(
    ("scenario", "options", "expected"),
    [
        ("mp3", {}, ErrorCode.MALFORMED),
        ("garbage", {}, ErrorCode.MALFORMED),
        ("truncated", {}, ErrorCode.MALFORMED),
        ("json_no_audio", {}, ErrorCode.MALFORMED),
        ("zero", {}, ErrorCode.EMPTY),
        ("wav", {"max_bytes": 10_000}, ErrorCode.TOO_LARGE),
        ("json", {"max_bytes": 10_000}, ErrorCode.TOO_LARGE),
        ("bad_request", {}, ErrorCode.BAD_REQUEST),
        ("busy", {}, ErrorCode.SERVER_ERROR),
        ("nowhere/else", {}, ErrorCode.NOT_FOUND),
        ("hang", {"read_timeout": 0.3}, ErrorCode.TIMEOUT),
    ],
)
def test_failures_have_typed_codes(generate, server, scenario, options, expected):
    assert failure(generate, server, scenario, **options).code is expected


def test_server_error_messages_are_quoted(generate, server):
    assert "at most 30" in failure(generate, server, "bad_request").message
    assert "GPUs are busy" in failure(generate, server, "busy").message


@pytest.mark.parametrize(
    ("request_", "capabilities", "reason"),
    [
        (music_request(duration_s=-1), None, "positive"),
        (music_request(duration_s="long"), None, "positive"),
        (music_request(instrumental="no"), None, "true or false"),
        (music_request(lyrics=["la"]), Capabilities(lyrics=True), "text"),
        (music_request(lyrics="la la"), Capabilities(lyrics=False), "lyrics"),
        (music_request(duration_s=60), Capabilities(max_duration_s=30), "max_duration_s"),
        (music_request(instrumental=True), Capabilities(instrumental=False), "instrumental"),
        (music_request(prompt=" "), None, "neither a prompt"),
    ],
)
def test_requests_the_model_cannot_serve_are_refused_before_sending(
    generate, server, request_, capabilities, reason
):
    before = server.hits("/wav/generate")
    error = failure(generate, server, "wav", request_, capabilities=capabilities)
    assert error.code is ErrorCode.BAD_REQUEST and reason in error.message
    assert server.hits("/wav/generate") == before


def probe(server, scenario: str) -> Capabilities:
    async def run() -> Capabilities:
        async with httpx.AsyncClient(trust_env=False) as client:
            spec = ModelSpec(
                "music", Modality.MUSIC, "http_music", options={"base_url": f"{server.url}/{scenario}"}
            )
            return await HttpMusicProvider(
                spec, ProviderContext(http=client, environ={})
            ).probe_capabilities()

    return asyncio.run(run())


def test_info_probe(server):
    assert probe(server, "good") == Capabilities(
        streaming=False, multi_turn=False, lyrics=True, instrumental=True, max_duration_s=30.0
    )
    assert probe(server, "minimal") == Capabilities(streaming=False, multi_turn=False, lyrics=False)
    with pytest.raises(ProviderError) as info:
        probe(server, "bad")
    assert info.value.code is ErrorCode.MALFORMED
