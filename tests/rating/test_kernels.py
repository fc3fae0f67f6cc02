"""Compiled loops: cached on disk where numba can, compiled in memory where it cannot."""

from __future__ import annotations

from unittest import mock

import pytest

from rating.kernels import compile_loop, load


def test_no_cache_location_compiles_in_memory() -> None:
    from numba.core import caching

    def add_one(x: int) -> int:
        return x + 1

    with mock.patch.object(caching.CacheImpl, "_locator_classes", []):  # a read-only install, no home folder
        import numba

        with pytest.raises(RuntimeError, match="no locator"):
            numba.njit(cache=True)(add_one)  # what a bare cache=True does there
        assert compile_loop(add_one)(41) == 42
    assert compile_loop(add_one)(1) == 2
    assert load() is not None
