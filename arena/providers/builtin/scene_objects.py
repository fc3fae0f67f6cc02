"""Drawers for the objects a scene can hold; each draws one object standing at (x, base), s pixels tall."""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType

import numpy as np
from PIL import ImageDraw

from arena.providers.builtin.colors import RGB, shade

Drawer = Callable[[ImageDraw.ImageDraw, float, float, float, RGB, np.random.Generator], None]
TRUNK = (110, 70, 40)
SKIN = (235, 190, 150)


def _disc(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float, fill: RGB) -> None:
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)


def tree(draw: ImageDraw.ImageDraw, x: float, base: float, s: float, colour: RGB, rng: np.random.Generator) -> None:
    """A round deciduous tree or, sometimes, a layered pine."""
    draw.rectangle((x - s * 0.05, base - s * 0.45, x + s * 0.05, base), fill=TRUNK)
    if rng.random() < 0.35:
        for k in range(3):
            top, width = base - s * (1.0 - 0.2 * k), s * (0.18 + 0.08 * k)
            draw.polygon([(x - width, top + s * 0.35), (x, top), (x + width, top + s * 0.35)], fill=shade(colour, 0.8))
        return
    for dx, dy, r in ((0, -0.7, 0.28), (-0.18, -0.55, 0.2), (0.18, -0.55, 0.2), (0, -0.5, 0.22)):
        _disc(draw, x + dx * s, base + dy * s, r * s, shade(colour, 0.9 + 0.2 * rng.random()))


def house(draw: ImageDraw.ImageDraw, x: float, base: float, s: float, colour: RGB, rng: np.random.Generator) -> None:
    """Walls, a pitched roof, a door and a lit window."""
    w, h = s * 0.5, s * 0.55
    draw.rectangle((x - w, base - h, x + w, base), fill=colour)
    draw.polygon([(x - w * 1.15, base - h), (x, base - s), (x + w * 1.15, base - h)], fill=shade(colour, 0.55))
    draw.rectangle((x - w * 0.2, base - h * 0.55, x + w * 0.2, base), fill=(80, 50, 30))
    side = 1 if rng.random() < 0.5 else -1
    wx = x + side * w * 0.6
    draw.rectangle((wx - w * 0.18, base - h * 0.8, wx + w * 0.18, base - h * 0.45), fill=(250, 230, 140))


def cat(draw: ImageDraw.ImageDraw, x: float, base: float, s: float, colour: RGB, rng: np.random.Generator) -> None:
    """A sitting cat seen from the front: body, head, pointed ears, tail and green eyes."""
    draw.ellipse((x - s * 0.35, base - s * 0.6, x + s * 0.35, base), fill=colour)
    hx, hy, hr = x, base - s * 0.75, s * 0.25
    for side in (-1, 1):
        ear = [
            (hx + side * hr * 0.9, hy - hr * 0.2),
            (hx + side * hr * 0.7, hy - hr * 1.3),
            (hx + side * hr * 0.1, hy - hr * 0.8),
        ]
        draw.polygon(ear, fill=colour)
    _disc(draw, hx, hy, hr, colour)
    for side in (-1, 1):
        _disc(draw, hx + side * hr * 0.4, hy - hr * 0.1, hr * 0.14, (60, 170, 60))
    tail = 1 if rng.random() < 0.5 else -1
    draw.arc(
        (x + tail * s * 0.2 - s * 0.3, base - s * 0.5, x + tail * s * 0.2 + s * 0.3, base),
        270,
        90,
        fill=colour,
        width=max(2, int(s * 0.08)),
    )


def dog(draw: ImageDraw.ImageDraw, x: float, base: float, s: float, colour: RGB, rng: np.random.Generator) -> None:
    """A standing dog in profile: body, legs, head with a floppy ear, tail."""
    face = 1 if rng.random() < 0.5 else -1
    draw.ellipse((x - s * 0.5, base - s * 0.75, x + s * 0.5, base - s * 0.3), fill=colour)
    for dx in (-0.38, -0.2, 0.2, 0.38):
        draw.rectangle((x + dx * s - s * 0.05, base - s * 0.4, x + dx * s + s * 0.05, base), fill=colour)
    hx, hy = x + face * s * 0.5, base - s * 0.85
    _disc(draw, hx, hy, s * 0.2, colour)
    draw.ellipse(
        (hx - face * s * 0.05 - s * 0.08, hy - s * 0.05, hx - face * s * 0.05 + s * 0.08, hy + s * 0.25),
        fill=shade(colour, 0.6),
    )
    _disc(draw, hx + face * s * 0.08, hy - s * 0.05, s * 0.03, (20, 20, 20))
    draw.line(
        (x - face * s * 0.5, base - s * 0.6, x - face * s * 0.75, base - s * 0.85),
        fill=colour,
        width=max(2, int(s * 0.06)),
    )


def flower(draw: ImageDraw.ImageDraw, x: float, base: float, s: float, colour: RGB, rng: np.random.Generator) -> None:
    """A stem with five petals around a yellow centre."""
    top = base - s
    draw.line((x, base, x, top), fill=(40, 130, 50), width=max(2, int(s * 0.06)))
    turn = rng.uniform(0, 2 * np.pi)
    for k in range(5):
        angle = turn + k * 2 * np.pi / 5
        _disc(draw, x + np.cos(angle) * s * 0.18, top + np.sin(angle) * s * 0.18, s * 0.14, colour)
    _disc(draw, x, top, s * 0.1, (250, 210, 50))


def car(draw: ImageDraw.ImageDraw, x: float, base: float, s: float, colour: RGB, rng: np.random.Generator) -> None:
    """A side-on car: body, cabin with windows, two wheels."""
    del rng
    w = s * 1.0
    draw.rounded_rectangle((x - w, base - s * 0.65, x + w, base - s * 0.2), radius=s * 0.12, fill=colour)
    draw.polygon(
        [
            (x - w * 0.55, base - s * 0.65),
            (x - w * 0.35, base - s),
            (x + w * 0.4, base - s),
            (x + w * 0.6, base - s * 0.65),
        ],
        fill=colour,
    )
    draw.rectangle((x - w * 0.35, base - s * 0.93, x + w * 0.35, base - s * 0.7), fill=(190, 220, 240))
    for side in (-1, 1):
        _disc(draw, x + side * w * 0.6, base - s * 0.2, s * 0.2, (25, 25, 25))
        _disc(draw, x + side * w * 0.6, base - s * 0.2, s * 0.08, (170, 170, 170))


def person(draw: ImageDraw.ImageDraw, x: float, base: float, s: float, colour: RGB, rng: np.random.Generator) -> None:
    """A simple figure: head, clothed body, arms and legs."""
    width = max(2, int(s * 0.07))
    wave = rng.uniform(-0.25, 0.1)
    for side in (-1, 1):
        draw.line((x, base - s * 0.4, x + side * s * 0.15, base), fill=(50, 50, 60), width=width)
        draw.line(
            (x, base - s * 0.68, x + side * s * 0.25, base - s * (0.5 + (wave if side > 0 else 0))),
            fill=SKIN,
            width=width,
        )
    draw.polygon([(x - s * 0.15, base - s * 0.4), (x, base - s * 0.75), (x + s * 0.15, base - s * 0.4)], fill=colour)
    _disc(draw, x, base - s * 0.85, s * 0.12, SKIN)


def boat(draw: ImageDraw.ImageDraw, x: float, base: float, s: float, colour: RGB, rng: np.random.Generator) -> None:
    """A sailing boat: hull, mast, white sail."""
    del rng
    draw.polygon(
        [(x - s * 0.6, base - s * 0.25), (x + s * 0.6, base - s * 0.25), (x + s * 0.4, base), (x - s * 0.4, base)],
        fill=colour,
    )
    draw.line((x, base - s * 0.25, x, base - s * 1.1), fill=(90, 60, 40), width=max(2, int(s * 0.04)))
    draw.polygon(
        [(x + s * 0.03, base - s * 1.05), (x + s * 0.03, base - s * 0.32), (x + s * 0.5, base - s * 0.32)],
        fill=(250, 250, 245),
    )


def bird(draw: ImageDraw.ImageDraw, x: float, base: float, s: float, colour: RGB, rng: np.random.Generator) -> None:
    """A flying bird drawn as two wing arcs."""
    flap = rng.uniform(0.2, 0.5)
    width = max(2, int(s * 0.12))
    draw.arc((x - s, base - s * flap, x, base + s * flap), 200, 340, fill=colour, width=width)
    draw.arc((x, base - s * flap, x + s, base + s * flap), 200, 340, fill=colour, width=width)


STANDING: MappingProxyType[str, tuple[Drawer, float]] = MappingProxyType(
    {
        "tree": (tree, 0.34),
        "house": (house, 0.3),
        "person": (person, 0.17),
        "dog": (dog, 0.13),
        "cat": (cat, 0.12),
        "car": (car, 0.1),
        "flower": (flower, 0.07),
    }
)
