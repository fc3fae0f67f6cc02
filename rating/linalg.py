"""Small dense linear algebra kept on the calling thread.

The matrices here are small (one row per model, about 100-200).  OpenBLAS hands a product of
that size to its own worker threads, which costs far more than it saves: on a 2-core machine with
the other core busy, a 130 x 130 by 130 x 100 product took 16 ms instead of 0.07 ms, and a
LAPACK Cholesky of 130 x 130 sometimes 100 ms.  Splitting every product and factorisation into
blocks keeps each BLAS call under OpenBLAS's threading threshold (about 65536 * 4 multiply-adds),
so it runs on the caller's thread; the bootstrap then parallelises over chunks of rounds itself.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def _block(rows: int, inner: int) -> int:
    return max(1, 200_000 // max(rows * inner, 1))


def matmul(a: Array, b: Array) -> Array:
    """``a @ b`` for a small square-ish `a` (shape (m, k)) and `b` of shape (k,) or (k, r)."""
    if b.ndim == 1:
        return a @ b
    step = _block(a.shape[0], a.shape[1])
    if b.shape[1] <= step:
        return a @ b
    out = np.empty((a.shape[0], b.shape[1]))
    for j in range(0, b.shape[1], step):
        out[:, j : j + step] = a @ b[:, j : j + step]
    return out


_NB = 16  # block size: every BLAS call below stays under OpenBLAS's threading threshold


def _factor(a: Array) -> tuple[Array, list[Array]]:
    """Blocked left-looking Cholesky: the factor and the inverses of its diagonal blocks.

    Only small calls reach LAPACK/BLAS (16 x 16 factorisations and inverses, products of at
    most 130 x 130 x 16), so OpenBLAS never starts its threads.
    """
    n = a.shape[0]
    low = np.zeros((n, n))
    inverses = []
    for k in range(0, n, _NB):
        e = min(n, k + _NB)
        left = low[k:e, :k]
        block = np.linalg.cholesky(a[k:e, k:e] - left @ left.T)  # 16 x 16: unblocked LAPACK
        inv = np.linalg.inv(block)
        low[k:e, k:e] = block
        inverses.append(inv)
        if e < n:
            low[e:, k:e] = matmul(a[e:, k:e] - low[e:, :k] @ left.T, inv.T)
    return low, inverses


def cholesky(a: Array) -> Array:
    """Lower Cholesky factor of a symmetric positive definite matrix (blocked, caller's thread).

    Raises
    ------
    numpy.linalg.LinAlgError
        If `a` is not positive definite.
    """
    return _factor(a)[0]


def spd_solve(a: Array, b: Array) -> Array:
    """Solve ``a x = b`` for symmetric positive definite `a` (b of shape (n,) or (n, r)).

    Raises
    ------
    numpy.linalg.LinAlgError
        If `a` is not positive definite.
    """
    low, inverses = _factor(a)
    n = a.shape[0]
    y = np.array(b, dtype=float)
    for i, k in enumerate(range(0, n, _NB)):  # forward: low y = b
        e = min(n, k + _NB)
        y[k:e] = matmul(inverses[i], y[k:e] - matmul(low[k:e, :k], y[:k]))
    for i, k in reversed(list(enumerate(range(0, n, _NB)))):  # backward: low.T x = y
        e = min(n, k + _NB)
        y[k:e] = matmul(inverses[i].T, y[k:e] - matmul(low[e:, k:e].T, y[e:]))
    return y


def spd_inverse(a: Array) -> Array:
    """Inverse of a symmetric positive definite matrix (symmetrised)."""
    inv = spd_solve(a, np.eye(a.shape[0]))
    return 0.5 * (inv + inv.T)


def gram(a: Array, b: Array) -> Array:
    """``a.T @ b`` for tall matrices (shape (N, p) and (N, q)) in row blocks on the caller's thread."""
    step = _block(a.shape[1], b.shape[1])
    out = np.zeros((a.shape[1], b.shape[1]))
    for i in range(0, a.shape[0], step):
        out += a[i : i + step].T @ b[i : i + step]
    return out


def tall_matvec(a: Array, x: Array) -> Array:
    """``a @ x`` for a tall matrix `a` (shape (N, p)) and a vector `x` (shape (p,)), in row blocks."""
    step = 16384
    out = np.empty(a.shape[0])
    for i in range(0, a.shape[0], step):
        out[i : i + step] = a[i : i + step] @ x
    return out
