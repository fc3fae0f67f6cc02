"""Small dense linear algebra on the caller's thread agrees with LAPACK/BLAS."""

from __future__ import annotations

import numpy as np
import pytest

from rating.linalg import cholesky, gram, matmul, spd_inverse, spd_solve, tall_matvec


def _spd(n: int, seed: int) -> np.ndarray:
    a = np.random.default_rng(seed).normal(size=(n, n))
    return a @ a.T + n * np.eye(n)


def test_cholesky_solve_inverse() -> None:
    a = _spd(130, 0)
    low = cholesky(a)
    np.testing.assert_allclose(low @ low.T, a, atol=1e-10)
    assert np.all(np.triu(low, 1) == 0)
    b = np.random.default_rng(1).normal(size=(130, 7))
    np.testing.assert_allclose(spd_solve(a, b), np.linalg.solve(a, b), atol=1e-12)
    np.testing.assert_allclose(spd_solve(a, b[:, 0]), np.linalg.solve(a, b[:, 0]), atol=1e-12)
    np.testing.assert_allclose(spd_inverse(a), np.linalg.inv(a), atol=1e-12)
    with pytest.raises(np.linalg.LinAlgError):
        cholesky(-a)


def test_products() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(130, 130)), rng.normal(size=(130, 500))
    np.testing.assert_allclose(matmul(a, b), a @ b, atol=1e-10)
    tall = np.asfortranarray(rng.normal(size=(50_000, 4)))
    other = rng.normal(size=(50_000, 3))
    np.testing.assert_allclose(gram(tall, other), tall.T @ other, rtol=1e-10, atol=1e-8)
    x = rng.normal(size=4)
    np.testing.assert_allclose(tall_matvec(tall, x), tall @ x, atol=1e-12)
