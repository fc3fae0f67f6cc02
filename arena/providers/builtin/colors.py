"""Colour vocabulary for the built-in image models: colour words and mood words in a prompt -> RGB palettes."""

from __future__ import annotations

import colorsys
from types import MappingProxyType

import numpy as np

from arena.providers.builtin.textproc import tokens

RGB = tuple[int, int, int]

COLOR_WORDS: MappingProxyType[str, RGB] = MappingProxyType(
    {
        "red": (214, 40, 40),
        "crimson": (178, 24, 52),
        "scarlet": (240, 40, 20),
        "maroon": (120, 20, 30),
        "pink": (245, 140, 180),
        "magenta": (220, 40, 160),
        "purple": (128, 60, 170),
        "violet": (150, 90, 210),
        "lavender": (190, 170, 230),
        "indigo": (75, 40, 140),
        "blue": (40, 100, 220),
        "navy": (20, 35, 100),
        "azure": (60, 150, 240),
        "cyan": (40, 200, 220),
        "turquoise": (50, 200, 190),
        "teal": (20, 130, 130),
        "green": (50, 160, 70),
        "emerald": (20, 150, 100),
        "lime": (160, 220, 50),
        "olive": (120, 130, 40),
        "yellow": (250, 215, 50),
        "gold": (230, 180, 40),
        "golden": (230, 180, 40),
        "amber": (255, 170, 30),
        "orange": (245, 130, 30),
        "peach": (255, 190, 150),
        "coral": (250, 120, 100),
        "brown": (130, 80, 40),
        "tan": (200, 160, 110),
        "beige": (225, 210, 175),
        "cream": (250, 240, 210),
        "white": (245, 245, 245),
        "silver": (190, 195, 205),
        "grey": (128, 128, 128),
        "gray": (128, 128, 128),
        "black": (20, 20, 24),
    }
)

SHADES: MappingProxyType[str, float] = MappingProxyType(
    {"dark": 0.55, "deep": 0.65, "light": 1.35, "pale": 1.5, "bright": 1.2, "pastel": 1.45}
)

MOOD_PALETTES: MappingProxyType[str, tuple[RGB, ...]] = MappingProxyType(
    {
        "sunset": ((250, 110, 60), (240, 80, 110), (120, 60, 140), (255, 190, 90)),
        "night": ((10, 15, 40), (30, 40, 90), (90, 90, 160), (230, 230, 250)),
        "ocean": ((10, 60, 120), (20, 130, 170), (120, 210, 220), (240, 250, 255)),
        "forest": ((20, 60, 30), (50, 110, 50), (140, 170, 80), (90, 60, 30)),
        "autumn": ((170, 60, 20), (220, 130, 30), (240, 200, 80), (110, 50, 30)),
        "winter": ((220, 235, 250), (160, 190, 220), (90, 120, 160), (255, 255, 255)),
        "fire": ((255, 220, 80), (250, 120, 20), (200, 30, 20), (60, 10, 10)),
        "neon": ((255, 40, 200), (40, 255, 230), (250, 250, 60), (20, 10, 40)),
        "calm": ((200, 220, 230), (170, 200, 190), (230, 225, 210), (150, 170, 190)),
        "desert": ((240, 200, 130), (210, 140, 80), (170, 90, 60), (250, 230, 190)),
    }
)


def shade(rgb: RGB, factor: float) -> RGB:
    """Darken (factor < 1) or lighten towards white (factor > 1)."""
    if factor <= 1.0:
        return (int(rgb[0] * factor), int(rgb[1] * factor), int(rgb[2] * factor))
    mix = min(factor - 1.0, 1.0)
    return (
        int(rgb[0] + (255 - rgb[0]) * mix),
        int(rgb[1] + (255 - rgb[1]) * mix),
        int(rgb[2] + (255 - rgb[2]) * mix),
    )


def colors_in(words: list[str]) -> list[tuple[int, RGB]]:
    """(position, colour) for each colour word, with a shade word just before it applied ('dark blue')."""
    found = []
    for i, word in enumerate(words):
        if word in COLOR_WORDS:
            rgb = COLOR_WORDS[word]
            if i > 0 and words[i - 1] in SHADES:
                rgb = shade(rgb, SHADES[words[i - 1]])
            found.append((i, rgb))
    return found


def harmonious_palette(rng: np.random.Generator, n: int = 4) -> tuple[RGB, ...]:
    """A random palette of n colours spaced around the hue circle (for prompts that name no colours)."""
    base = rng.random()
    spread = rng.choice([0.08, 0.33, 0.5])
    palette = []
    for i in range(n):
        hue = (base + spread * i + rng.normal(0, 0.02)) % 1.0
        r, g, b = colorsys.hsv_to_rgb(hue, 0.45 + 0.5 * rng.random(), 0.55 + 0.45 * rng.random())
        palette.append((int(r * 255), int(g * 255), int(b * 255)))
    return tuple(palette)


def prompt_palette(prompt: str, rng: np.random.Generator) -> tuple[RGB, ...]:
    """The prompt's colours (at least two), else a mood palette it names, else a harmonious random one."""
    words = tokens(prompt)
    named = [rgb for _, rgb in colors_in(words)]
    if len(named) >= 2:
        return tuple(named)
    for word in words:
        if word in MOOD_PALETTES:
            return (*named, *MOOD_PALETTES[word])
    if named:
        return (named[0], shade(named[0], 0.45), shade(named[0], 1.5), *harmonious_palette(rng, 1))
    return harmonious_palette(rng)
