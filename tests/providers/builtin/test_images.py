"""The built-in image models: valid prompt-dependent PNGs that differ between prompts, seeds and models."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from PIL import Image

from arena.domain import Finish
from arena.providers.builtin.scene_art import parse_scene

IMAGE_MODELS = ("builtin_image_pattern", "builtin_image_scene")


def pixels(result: Any) -> np.ndarray:
    image = Image.open(io.BytesIO(result.media.data))
    image.load()
    assert image.format == "PNG"
    return np.asarray(image.convert("RGB"), dtype=np.float64)


@pytest.mark.parametrize("model", IMAGE_MODELS)
def test_png_with_size_metadata(builtins: Any, make_request: Any, model: str) -> None:
    result = builtins.run(model, make_request("a red house by the sea"))
    assert result.media.mime == "image/png"
    assert pixels(result).shape == (512, 512, 3)
    assert result.media.meta["width"] == result.media.meta["height"] == 512
    assert isinstance(result.chunks[-1], Finish)


@pytest.mark.parametrize("model", IMAGE_MODELS)
def test_deterministic_and_prompt_and_seed_dependent(builtins: Any, make_request: Any, model: str) -> None:
    base = builtins.run(model, make_request("a cat under a tree", seed=1)).media.data
    assert builtins.run(model, make_request("a cat under a tree", seed=1)).media.data == base
    assert builtins.run(model, make_request("a dog on a hill", seed=1)).media.data != base
    assert builtins.run(model, make_request("a cat under a tree", seed=2)).media.data != base


def test_the_two_generators_look_different(builtins: Any, make_request: Any) -> None:
    req = make_request("three green trees and a yellow sun")
    pattern = pixels(builtins.run("builtin_image_pattern", req))
    scene = pixels(builtins.run("builtin_image_scene", req))
    assert np.mean(np.abs(pattern - scene)) > 30


@pytest.mark.parametrize("model", IMAGE_MODELS)
def test_colour_words_set_the_colours(builtins: Any, make_request: Any, model: str) -> None:
    subject = "waves" if model == "builtin_image_pattern" else "sky over a cat"
    reds = pixels(builtins.run(model, make_request(f"red and crimson {subject}")))
    blues = pixels(builtins.run(model, make_request(f"blue and navy {subject}")))
    assert (reds[..., 0] - reds[..., 2]).mean() > (blues[..., 0] - blues[..., 2]).mean() + 10


def test_pattern_style_follows_shape_words(builtins: Any, make_request: Any) -> None:
    assert builtins.run("builtin_image_pattern", make_request("a purple spiral")).media.meta["style"] == "spiral"
    assert builtins.run("builtin_image_pattern", make_request("stone mosaic")).media.meta["style"] == "mosaic"


def test_scene_draws_what_is_named_at_the_time_given(builtins: Any, make_request: Any) -> None:
    day = builtins.run("builtin_image_scene", make_request("a house and two dogs"))
    night = builtins.run("builtin_image_scene", make_request("a house and two dogs at night"))
    assert day.media.meta["objects"] == ["dog", "house"]
    assert night.media.meta["time"] == "night"
    assert pixels(night)[:150].mean() < pixels(day)[:150].mean() - 60


def test_scene_parser_reads_counts_and_colours() -> None:
    scene = parse_scene("three red boats and a purple cat on the beach at sunset")
    assert scene.things["boat"].count == 3
    assert scene.things["boat"].colour == (214, 40, 40)
    assert scene.things["cat"].count == 1 and scene.things["cat"].colour == (128, 60, 170)
    assert scene.time == "sunset"
    assert "sea" in scene.things
