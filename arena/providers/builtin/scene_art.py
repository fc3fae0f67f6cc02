"""Scene renderer: draws the things a prompt names (sun, moon, stars, clouds, mountains, sea, trees, houses,
cats, dogs, birds, flowers, boats, cars, people, rainbows) in the colours and numbers it gives them, at the
time of day it says, as a simple flat illustration. Pillow only; the seed moves things around."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from arena.providers.builtin.colors import RGB, colors_in, shade
from arena.providers.builtin.scene_objects import STANDING, bird, boat
from arena.providers.builtin.textproc import stem, tokens

CANVAS = 1024
HORIZON = 0.62

KINDS: MappingProxyType[str, str] = MappingProxyType(
    {
        **dict.fromkeys(("sun", "sunny", "sunshine"), "sun"),
        **dict.fromkeys(("moon", "moonlight"), "moon"),
        **dict.fromkeys(("star", "starry"), "star"),
        **dict.fromkeys(("cloud", "cloudy"), "cloud"),
        **dict.fromkeys(("mountain", "peak", "alp"), "mountain"),
        **dict.fromkeys(("hill",), "hill"),
        **dict.fromkeys(("sea", "ocean", "lake", "beach", "water", "coast"), "sea"),
        **dict.fromkeys(("tree", "forest", "wood", "pine", "oak"), "tree"),
        **dict.fromkeys(("house", "home", "cottage", "cabin", "barn", "hut", "village"), "house"),
        **dict.fromkeys(("cat", "kitten", "kitty"), "cat"),
        **dict.fromkeys(("dog", "puppy"), "dog"),
        **dict.fromkeys(("bird", "seagull", "gull"), "bird"),
        **dict.fromkeys(("flower", "rose", "tulip", "daisy", "garden", "meadow"), "flower"),
        **dict.fromkeys(("boat", "ship", "sailboat", "yacht"), "boat"),
        **dict.fromkeys(("car", "truck"), "car"),
        **dict.fromkeys(("person", "man", "woman", "girl", "boy", "child", "people", "kid"), "person"),
        **dict.fromkeys(("rainbow",), "rainbow"),
    }
)
NUMBERS: MappingProxyType[str, int] = MappingProxyType(
    {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8}
)
DEFAULT_COLOURS: MappingProxyType[str, RGB] = MappingProxyType(
    {
        "sun": (255, 215, 60),
        "moon": (240, 240, 220),
        "cloud": (250, 250, 250),
        "mountain": (110, 110, 135),
        "hill": (90, 160, 80),
        "sea": (30, 110, 180),
        "tree": (40, 130, 60),
        "house": (200, 90, 60),
        "cat": (230, 140, 50),
        "dog": (150, 100, 60),
        "bird": (40, 40, 50),
        "flower": (230, 60, 120),
        "boat": (200, 50, 50),
        "car": (40, 90, 200),
        "person": (60, 80, 160),
    }
)
NIGHT_WORDS = frozenset(("night", "midnight", "moon", "moonlight", "starry", "stars", "star"))
SUNSET_WORDS = frozenset(("sunset", "sunrise", "dawn", "dusk", "evening", "twilight"))
GROUND_WORDS: MappingProxyType[str, RGB] = MappingProxyType(
    {"snow": (238, 242, 248), "snowy": (238, 242, 248), "winter": (238, 242, 248), "desert": (225, 190, 120)}
)
MAX_COUNT = 8


@dataclass
class Thing:
    """One kind of object in the scene: how many, and in which colour (None = its usual colour)."""

    kind: str
    count: int
    colour: RGB | None


@dataclass
class Scene:
    """What the prompt asks for."""

    things: dict[str, Thing] = field(default_factory=dict)
    time: str = "day"
    ground: RGB = (95, 170, 75)
    sky_colour: RGB | None = None


def _colour_before(words: list[str], at: int) -> RGB | None:
    """The colour named in the three words before position `at` (the nearest one), if any."""
    found = colors_in(words[max(0, at - 3) : at])
    return found[-1][1] if found else None


def parse_scene(prompt: str) -> Scene:
    """Objects with counts ('three trees', plurals default to 3) and colours ('a red house'), time, ground."""
    words = tokens(prompt)
    scene = Scene()
    for i, word in enumerate(words):
        kind = KINDS.get(word) or KINDS.get(stem(word))
        if kind is None:
            if word == "sky":
                scene.sky_colour = _colour_before(words, i)
            continue
        previous = words[i - 1] if i else ""
        plural = stem(word) != word or word in ("people", "forest", "village", "garden", "meadow")
        count = NUMBERS.get(previous) or (int(previous) if previous.isdigit() else (3 if plural else 1))
        colour = _colour_before(words, i)
        scene.things[kind] = Thing(kind, min(count, MAX_COUNT), colour)
    lowered = set(words)
    if lowered & SUNSET_WORDS:
        scene.time = "sunset"
    elif lowered & NIGHT_WORDS:
        scene.time = "night"
    for word, rgb in GROUND_WORDS.items():
        if word in lowered:
            scene.ground = rgb
    if "beach" in lowered or "sand" in lowered:
        scene.ground = (230, 205, 150)
    return scene


def colour_of(scene: Scene, kind: str) -> RGB:
    """The colour the prompt gave a kind of object, else its usual colour."""
    thing = scene.things.get(kind)
    return thing.colour if thing and thing.colour else DEFAULT_COLOURS.get(kind, (128, 128, 128))


def draw_sky(image: Image.Image, scene: Scene) -> None:
    """A vertical gradient for the time of day (or the prompt's sky colour)."""
    tops = {"day": (70, 140, 230), "sunset": (70, 50, 120), "night": (5, 10, 35)}
    bottoms = {"day": (190, 225, 250), "sunset": (250, 150, 80), "night": (30, 40, 90)}
    top = scene.sky_colour or tops[scene.time]
    bottom = shade(scene.sky_colour, 1.4) if scene.sky_colour else bottoms[scene.time]
    height = int(CANVAS * HORIZON)
    t = np.linspace(0, 1, height)[:, None, None]
    gradient = np.array(top) * (1 - t) + np.array(bottom) * t
    band = np.broadcast_to(gradient, (height, CANVAS, 3)).astype(np.uint8)
    image.paste(Image.fromarray(np.ascontiguousarray(band), "RGB"), (0, 0))


def draw_celestial(draw: ImageDraw.ImageDraw, scene: Scene, rng: np.random.Generator) -> None:
    """Stars, moon and sun (the sun low and orange at sunset, absent at night unless asked for)."""
    if scene.time == "night" or "star" in scene.things:
        n_stars = 60 if scene.time == "night" else 25
        for x, y in rng.uniform(0, 1, (n_stars, 2)) * (CANVAS, CANVAS * HORIZON * 0.8):
            r = rng.uniform(1.5, 4)
            draw.ellipse((x - r, y - r, x + r, y + r), fill=(255, 255, 230))
    if "moon" in scene.things or scene.time == "night":
        cx, cy, r = CANVAS * rng.uniform(0.6, 0.85), CANVAS * 0.15, CANVAS * 0.06
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour_of(scene, "moon"))
    if "sun" in scene.things or scene.time in ("day", "sunset"):
        low = scene.time == "sunset"
        cx = CANVAS * rng.uniform(0.15, 0.4)
        cy = CANVAS * (HORIZON - 0.05 if low else 0.16)
        r = CANVAS * (0.09 if low else 0.07)
        colour = (255, 140, 50) if low and not scene.things.get("sun", Thing("sun", 1, None)).colour else None
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour or colour_of(scene, "sun"))


def draw_rainbow(draw: ImageDraw.ImageDraw) -> None:
    """Seven concentric arcs above the horizon."""
    bands = ((230, 40, 40), (245, 140, 30), (250, 220, 50), (60, 170, 70), (40, 110, 220), (80, 50, 160))
    cx, cy = CANVAS * 0.5, CANVAS * HORIZON
    for i, colour in enumerate(bands):
        r = CANVAS * (0.45 - i * 0.025)
        draw.arc((cx - r, cy - r, cx + r, cy + r), 180, 360, fill=colour, width=int(CANVAS * 0.026))


def draw_clouds(draw: ImageDraw.ImageDraw, scene: Scene, rng: np.random.Generator) -> None:
    """Puffy clouds made of overlapping ellipses."""
    count = scene.things["cloud"].count if "cloud" in scene.things else int(rng.integers(0, 3))
    colour = colour_of(scene, "cloud") if scene.time != "night" else (70, 75, 100)
    for _ in range(count):
        cx, cy = CANVAS * rng.uniform(0.1, 0.9), CANVAS * rng.uniform(0.08, 0.35)
        for _ in range(5):
            dx, dy = rng.normal(0, CANVAS * 0.04), rng.normal(0, CANVAS * 0.012)
            rx, ry = CANVAS * rng.uniform(0.04, 0.07), CANVAS * rng.uniform(0.025, 0.04)
            draw.ellipse((cx + dx - rx, cy + dy - ry, cx + dx + rx, cy + dy + ry), fill=colour)


def draw_ranges(draw: ImageDraw.ImageDraw, scene: Scene, rng: np.random.Generator) -> None:
    """Mountains (peaked, snow-capped) and hills (rounded) standing on the horizon."""
    base = CANVAS * HORIZON
    for kind in ("mountain", "hill"):
        if kind not in scene.things:
            continue
        colour = colour_of(scene, kind)
        n = max(scene.things[kind].count, 2)
        for i in range(n):
            cx = CANVAS * (i + 0.5 + rng.uniform(-0.3, 0.3)) / n
            half = CANVAS * rng.uniform(0.18, 0.3)
            height = CANVAS * (rng.uniform(0.25, 0.4) if kind == "mountain" else rng.uniform(0.08, 0.15))
            if kind == "hill":
                draw.ellipse((cx - half, base - height, cx + half, base + height), fill=colour)
                continue
            draw.polygon(
                [(cx - half, base), (cx, base - height), (cx + half, base)], fill=shade(colour, 0.85 + 0.1 * (i % 2))
            )
            snow_line = base - height * 0.75
            draw.polygon(
                [(cx - half / 4, snow_line), (cx, base - height), (cx + half / 4, snow_line)], fill=(245, 245, 250)
            )


def draw_ground(draw: ImageDraw.ImageDraw, scene: Scene) -> tuple[float, float]:
    """Sea (if asked for) and land; returns the vertical band (top, bottom) where things can stand."""
    top = CANVAS * HORIZON
    if "sea" in scene.things:
        sea = colour_of(scene, "sea")
        draw.rectangle((0, top, CANVAS, CANVAS), fill=sea)
        for k in range(12):
            y = top + (k + 1) * CANVAS * 0.03
            draw.line((0, y, CANVAS, y), fill=shade(sea, 1.2), width=2)
        shore = CANVAS * 0.82
        draw.rectangle((0, shore, CANVAS, CANVAS), fill=scene.ground)
        return shore, CANVAS * 0.97
    draw.rectangle((0, top, CANVAS, CANVAS), fill=scene.ground)
    return top + CANVAS * 0.04, CANVAS * 0.97


def place_standing(
    draw: ImageDraw.ImageDraw, scene: Scene, band: tuple[float, float], rng: np.random.Generator
) -> None:
    """Trees, houses, people, animals, cars and flowers in spread-out slots, far ones smaller and drawn first."""
    items = [
        (kind, colour_of(scene, kind))
        for kind in STANDING
        if kind in scene.things
        for _ in range(scene.things[kind].count)
    ]
    if not items:
        return
    slots = rng.permutation(len(items))
    top, bottom = band
    placed = []
    for (kind, colour), slot in zip(items, slots, strict=True):
        x = CANVAS * (0.1 + 0.8 * (slot + 0.5 + rng.uniform(-0.3, 0.3)) / len(items))
        y = rng.uniform(top, bottom)
        placed.append((y, x, kind, colour))
    for y, x, kind, colour in sorted(placed):
        drawer, height = STANDING[kind]
        depth = 0.6 + 0.6 * (y - top) / max(bottom - top, 1.0)
        drawer(draw, x, y, CANVAS * height * depth, colour, rng)


def place_flying_and_floating(draw: ImageDraw.ImageDraw, scene: Scene, rng: np.random.Generator) -> None:
    """Boats on the sea band, birds in the sky."""
    if "boat" in scene.things and "sea" in scene.things:
        for _ in range(scene.things["boat"].count):
            x, y = CANVAS * rng.uniform(0.1, 0.9), CANVAS * rng.uniform(HORIZON + 0.05, 0.78)
            boat(draw, x, y, CANVAS * 0.12 * (0.6 + (y / CANVAS - HORIZON) * 3), colour_of(scene, "boat"), rng)
    if "bird" in scene.things:
        for _ in range(scene.things["bird"].count):
            x, y = CANVAS * rng.uniform(0.1, 0.9), CANVAS * rng.uniform(0.1, 0.4)
            bird(draw, x, y, CANVAS * rng.uniform(0.025, 0.045), colour_of(scene, "bird"), rng)


def default_landscape(scene: Scene, rng: np.random.Generator) -> None:
    """A prompt that names nothing drawable still gets a scene: hills and a few trees, chosen by the seed."""
    if not any(kind in scene.things for kind in (*STANDING, "mountain", "hill", "sea", "boat")):
        scene.things["hill"] = Thing("hill", int(rng.integers(2, 4)), None)
        scene.things["tree"] = Thing("tree", int(rng.integers(1, 5)), None)


def render_scene(scene: Scene, rng: np.random.Generator, size: int = 512) -> Image.Image:
    """The full image of a parsed scene (RGB, size x size), drawn at 1024 px and downsampled for smooth edges.

    A scene that names nothing drawable gets a default landscape (added to `scene.things`)."""
    default_landscape(scene, rng)
    image = Image.new("RGB", (CANVAS, CANVAS))
    draw_sky(image, scene)
    draw = ImageDraw.Draw(image)
    draw_celestial(draw, scene, rng)
    if "rainbow" in scene.things:
        draw_rainbow(draw)
    draw_clouds(draw, scene, rng)
    draw_ranges(draw, scene, rng)
    band = draw_ground(draw, scene)
    place_flying_and_floating(draw, scene, rng)
    place_standing(draw, scene, band, rng)
    return image.filter(ImageFilter.SMOOTH).resize((size, size), Image.Resampling.LANCZOS)
