"""Abstract pattern renderer: a prompt picks a style (waves, stripes, rings, plasma, mosaic, spiral, bubbles,
shards) and a palette (its colour and mood words); the seed shapes the details. Pure numpy + Pillow."""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType

import numpy as np
from PIL import Image, ImageDraw

from arena.providers.builtin.colors import RGB, prompt_palette
from arena.providers.builtin.textproc import stem, tokens

Field = Callable[[np.ndarray, np.ndarray, np.random.Generator], np.ndarray]

STYLE_WORDS: MappingProxyType[str, str] = MappingProxyType(
    {
        "wave": "waves",
        "water": "waves",
        "ocean": "waves",
        "sea": "waves",
        "river": "waves",
        "stripe": "stripes",
        "line": "stripes",
        "rain": "stripes",
        "ring": "rings",
        "circle": "rings",
        "target": "rings",
        "ripple": "rings",
        "cloud": "plasma",
        "smoke": "plasma",
        "fog": "plasma",
        "dream": "plasma",
        "mosaic": "mosaic",
        "tile": "mosaic",
        "cell": "mosaic",
        "stone": "mosaic",
        "glass": "mosaic",
        "spiral": "spiral",
        "swirl": "spiral",
        "galaxy": "spiral",
        "vortex": "spiral",
        "bubble": "bubbles",
        "dot": "bubbles",
        "ball": "bubbles",
        "triangle": "shards",
        "crystal": "shards",
        "geometric": "shards",
        "shard": "shards",
    }
)


def waves(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Horizontal bands bent by a slower sine."""
    freq, bend, phase = rng.uniform(3, 9), rng.uniform(0.05, 0.25), rng.uniform(0, 2 * np.pi)
    return 0.5 + 0.5 * np.sin(2 * np.pi * (freq * y + bend * np.sin(2 * np.pi * rng.uniform(1, 3) * x + phase)))


def stripes(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Straight bands at a random angle."""
    angle, count = rng.uniform(0, np.pi), rng.integers(6, 20)
    return ((x * np.cos(angle) + y * np.sin(angle)) * count) % 1.0


def rings(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Concentric rings around a few centres (nearest centre wins)."""
    centres = rng.random((int(rng.integers(1, 4)), 2))
    dist = np.min([np.hypot(x - cx, y - cy) for cx, cy in centres], axis=0)
    return (dist * rng.uniform(8, 20)) % 1.0


def plasma(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A sum of random sinusoids at several scales: soft cloud-like colour fields."""
    total = np.zeros_like(x)
    for octave in range(5):
        k = 2.0**octave
        theta = rng.uniform(0, 2 * np.pi)
        total += np.sin(2 * np.pi * k * (x * np.cos(theta) + y * np.sin(theta)) + rng.uniform(0, 6.3)) / k
    return (total - total.min()) / (np.ptp(total) + 1e-9)


def mosaic(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Voronoi cells, each with its own palette position."""
    points = rng.random((int(rng.integers(20, 60)), 2))
    values = rng.random(int(points.shape[0]))
    dist = (x[..., None] - points[:, 0]) ** 2 + (y[..., None] - points[:, 1]) ** 2
    return values[np.argmin(dist, axis=-1)]


def spiral(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Logarithmic-looking spiral arms around the centre."""
    dx, dy = x - 0.5, y - 0.5
    angle = np.arctan2(dy, dx) / (2 * np.pi)
    return (angle * rng.integers(2, 6) + np.hypot(dx, dy) * rng.uniform(4, 10)) % 1.0


FIELDS: MappingProxyType[str, Field] = MappingProxyType(
    {"waves": waves, "stripes": stripes, "rings": rings, "plasma": plasma, "mosaic": mosaic, "spiral": spiral}
)
STYLES = (*FIELDS, "bubbles", "shards")


def choose_style(prompt: str, rng: np.random.Generator) -> str:
    """The first style word in the prompt decides; otherwise the seed does."""
    for word in tokens(prompt):
        style = STYLE_WORDS.get(stem(word))
        if style:
            return style
    return str(rng.choice(STYLES))


def colorize(field: np.ndarray, palette: tuple[RGB, ...]) -> np.ndarray:
    """Map a [0, 1] field onto a smooth gradient through the palette colours."""
    stops = np.array(palette, dtype=np.float32)
    position = np.clip(field, 0.0, 1.0) * (len(stops) - 1)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, len(stops) - 1)
    frac = (position - low)[..., None]
    return stops[low] * (1 - frac) + stops[high] * frac


def overlay_shapes(image: Image.Image, style: str, palette: tuple[RGB, ...], rng: np.random.Generator) -> None:
    """Translucent circles (bubbles) or triangles (shards) drawn over a plasma background."""
    size = image.width
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for _ in range(int(rng.integers(25, 60))):
        colour = palette[int(rng.integers(len(palette)))]
        fill = (*colour, int(rng.integers(90, 200)))
        cx, cy = rng.uniform(0, size, 2)
        radius = rng.uniform(size * 0.02, size * 0.15)
        if style == "bubbles":
            draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=fill)
        else:
            angles = rng.uniform(0, 2 * np.pi, 3)
            draw.polygon([(cx + radius * np.cos(a), cy + radius * np.sin(a)) for a in angles], fill=fill)
    image.alpha_composite(layer)


def render_pattern(prompt: str, rng: np.random.Generator, size: int, style: str) -> Image.Image:
    """The full pattern image for a prompt in a given style (RGB, size x size)."""
    palette = prompt_palette(prompt, rng)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    field = FIELDS.get(style, plasma)(x, y, rng)
    pixels = colorize(field, palette)
    vignette = 1.0 - 0.35 * ((x - 0.5) ** 2 + (y - 0.5) ** 2)[..., None]
    image = Image.fromarray(np.clip(pixels * vignette, 0, 255).astype(np.uint8), "RGB").convert("RGBA")
    if style in ("bubbles", "shards"):
        overlay_shapes(image, style, palette, rng)
    return image.convert("RGB")
