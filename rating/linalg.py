"""Small dense linear algebra kept on the calling thread.

The matrices here are small (one row per model, about 100-200).  OpenBLAS hands a product of
that size to its own worker threads, which costs far more than it saves: on a 2-core machine with
the other core busy, a 130 x 130 by 130 x 100 product took 16 ms instead of 0.07 ms.  Splitting
the right-hand side into narrow column blocks keeps every call under OpenBLAS's threading
threshold (about 65536 * 4 multiply-adds), so it runs on the caller's thread; the bootstrap then
parallelises over chunks of rounds itself.
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


def cholesky(a: Array) -> Array:
    """Lower Cholesky factor of a symmetric positive definite matrix, without LAPACK.

    LAPACK's ``potrf`` calls threaded BLAS on blocks of a 130 x 130 matrix; this column-by-column
    version does the same O(n^3 / 3) work in NumPy element-wise operations on the caller's thread.

    Raises
    ------
    numpy.linalg.LinAlgError
        If `a` is not positive definite.
    """
    n = a.shape[0]
    work = np.array(a, dtype=float)
    low = np.zeros_like(work)
    buf = np.empty((n, n))
    for k in range(n):
        pivot = work[k, k]
        if not pivot > 0.0:
            raise np.linalg.LinAlgError("matrix is not positive definite")
        col = work[k:, k] / np.sqrt(pivot)
        low[k:, k] = col
        m = n - k - 1
        outer = np.multiply(col[1:, None], col[None, 1:], out=buf[:m, :m])
        np.subtract(work[k + 1 :, k + 1 :], outer, out=work[k + 1 :, k + 1 :])
    return low


def _forward(low: Array, b: Array) -> Array:
    """Solve ``low y = b`` (lower triangular) row by row."""
    y = np.empty_like(b)
    for k in range(low.shape[0]):
        y[k] = (b[k] - low[k, :k] @ y[:k]) / low[k, k]
    return y


def _backward(low: Array, y: Array) -> Array:
    """Solve ``low.T x = y`` row by row from the bottom."""
    n = low.shape[0]
    x = np.empty_like(y)
    for k in range(n - 1, -1, -1):
        x[k] = (y[k] - low[k + 1 :, k] @ x[k + 1 :]) / low[k, k]
    return x


def spd_solve(a: Array, b: Array) -> Array:
    """Solve ``a x = b`` for symmetric positive definite `a` (b of shape (n,) or (n, r)).

    Raises
    ------
    numpy.linalg.LinAlgError
        If `a` is not positive definite.
    """
    low = cholesky(a)
    return _backward(low, _forward(low, np.asarray(b, dtype=float)))


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
