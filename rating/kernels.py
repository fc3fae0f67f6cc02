"""Compiled loops of the multinomial sampler (numba), doing exactly what its NumPy passes do.

The bootstrap's Poisson stage inverts one uniform per cell and round with a guide table and a short
forward walk (`rating.multinomial`).  In NumPy that is about a dozen array passes with index arrays
in between; one compiled loop does the same arithmetic per draw (the same ``int(u * buckets)``
bucket, the same guide entry, the same ``cdf <= u`` walk) and so returns the same integers for the
same uniforms.  The uniforms still come from the caller's NumPy generator, so a seed gives the same
draws with or without these kernels (`tests/rating/test_multinomial.py` checks that).

numba is a dependency, but the sampler does not need it: `load()` returns None when it cannot be
imported, and the sampler keeps its NumPy passes (the reference the tests compare against).  Compiled
code is cached on disk where possible (`compile_loop`), so a process pays the compile (about a second)
only the first time on a machine.  The loops release the GIL, so the bootstrap's
chunks run them on several threads at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any


@dataclass(frozen=True)
class Kernels:
    """The compiled loops (see `load`)."""

    poisson_rows: Callable[..., None]
    """``(u, cdf, guide, guide_off, buckets, value_offset, out)``: row c of `u` (shape (C, r)) inverted in
    segment c, plus ``value_offset[c]``, into `out` (int64, shape (C, r))."""
    add_categorical: Callable[..., None]
    """``(u, deficit, cdf, guide, buckets, x)``: for round r, the next ``deficit[r]`` uniforms of `u` each
    invert the one-segment table and add 1 to ``x[cell, r]``."""


def compile_loop(fn: Callable[..., Any]) -> Any:
    """`fn` compiled by numba (GIL released), its machine code cached on disk where numba finds a place.

    With no writable cache location (a read-only install without a usable home folder) numba refuses
    `cache=True` at once (numba/numba#4908); the loop is then compiled in memory, once per process.
    """
    import numba

    try:
        return numba.njit(nogil=True, cache=True)(fn)
    except RuntimeError:
        return numba.njit(nogil=True)(fn)


@cache
def load() -> Kernels | None:
    """The compiled kernels, or None when numba is not installed (compiled once per process)."""
    try:
        import numba
    except ImportError:
        return None
    jit = compile_loop

    def poisson_rows(u: Any, cdf: Any, guide: Any, guide_off: Any, buckets: Any, value_offset: Any, out: Any) -> None:
        rows, cols = u.shape
        for c in range(rows):
            b, base, shift = buckets[c], guide_off[c], value_offset[c]
            for k in range(cols):
                x = u[c, k]
                i = numba.int64(guide[base + numba.int64(x * b)])
                while cdf[i] <= x:  # every segment ends with inf
                    i += 1
                out[c, k] = i + shift

    def add_categorical(u: Any, deficit: Any, cdf: Any, guide: Any, buckets: Any, x: Any) -> None:
        t = 0
        for r in range(deficit.shape[0]):
            for _ in range(deficit[r]):
                v = u[t]
                t += 1
                i = numba.int64(guide[numba.int64(v * buckets)])
                while cdf[i] <= v:
                    i += 1
                x[i, r] += 1

    return Kernels(jit(poisson_rows), jit(add_categorical))
