"""`keras.ops.linalg`: linear algebra on (batches of) matrices, on `torch.linalg`'s fused kernels.

`cholesky`, `det`, `inv`, `norm`, `qr` and `solve` are the functions of `keraslike.ops.math`
(exported at `keras.ops` too); the rest live here. Results and dtypes are Keras 3's on torch.
"""

import torch

from keraslike.ops.core import like, to_tensor
from keraslike.ops.dispatch import keras_op
from keraslike.ops.math import cholesky, det, inv, norm, qr, solve


def _t(x):
    return x if isinstance(x, torch.Tensor) else to_tensor(x)


@keras_op
def cholesky_inverse(x, upper=False):
    """Inverse of a matrix from its Cholesky factor `x` (lower triangular unless `upper`)."""
    return torch.cholesky_inverse(_t(x), upper=upper)


@keras_op
def eig(x):
    """Eigenvalues and eigenvectors of square matrices: `(w, v)`, complex."""
    return tuple(torch.linalg.eig(_t(x)))


@keras_op
def eigh(x):
    """Eigenvalues (ascending) and eigenvectors of symmetric / Hermitian matrices: `(w, v)`."""
    return tuple(torch.linalg.eigh(_t(x)))


@keras_op
def lu_factor(x):
    """LU factorization with partial pivoting: `(lu, pivots)`, pivots 0-based (as SciPy's)."""
    lu, pivots = torch.linalg.lu_factor(_t(x))
    return lu, pivots - 1


@keras_op
def matrix_rank(x, tol=None):
    """Rank (`int32`) of matrices: the number of singular values above `tol`."""
    return torch.linalg.matrix_rank(_t(x), atol=tol).to(torch.int32)


@keras_op
def pinv(x, rcond=None):
    """Moore-Penrose pseudo-inverse (singular values below `rcond` times the largest dropped)."""
    return torch.linalg.pinv(_t(x), rtol=rcond)


@keras_op
def lstsq(a, b, rcond=None):
    """Least-squares solution `x` minimizing `||a @ x - b||` (`rcond` cuts small singular values)."""
    a = _t(a)
    b = like(b, a)
    if rcond is not None:
        if a.device.type == "cuda":  # torch's CUDA lstsq has no rcond-aware driver
            return torch.linalg.pinv(a, rtol=rcond) @ b
        return torch.linalg.lstsq(a, b, rcond=rcond, driver="gelsd")[0]
    return torch.linalg.lstsq(a, b)[0]


@keras_op
def solve_triangular(a, b, lower=False):
    """Solves `a @ x = b` for triangular `a` (upper unless `lower`); `b` may be a vector."""
    a = _t(a)
    b = like(b, a)
    if b.ndim == a.ndim - 1:
        return torch.linalg.solve_triangular(a, b.unsqueeze(-1), upper=not lower).squeeze(-1)
    return torch.linalg.solve_triangular(a, b, upper=not lower)


@keras_op
def svd(x, full_matrices=True, compute_uv=True):
    """Singular value decomposition: `(u, s, vh)`, or the singular values if not `compute_uv`."""
    x = _t(x)
    if not compute_uv:
        return torch.linalg.svdvals(x)
    return tuple(torch.linalg.svd(x, full_matrices=full_matrices))


def jvp(fun, primals, tangents, has_aux=False):
    """Jacobian-vector product of `fun` at `primals` along `tangents` (forward-mode autodiff).

    Args:
        fun: A function of tensors returning a tensor (or a nest of them).
        primals: Tuple of the points to differentiate at.
        tangents: Tuple of tangent vectors, one per primal.
        has_aux: Whether `fun` returns `(output, aux)`; `aux` is returned without differentiating.

    Returns:
        `(primals_out, tangents_out)`, plus `aux` when `has_aux`.
    """
    return torch.func.jvp(fun, tuple(primals), tuple(tangents), has_aux=has_aux)


__all__ = [
    "cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "jvp", "lstsq", "lu_factor",
    "matrix_rank", "norm", "pinv", "qr", "solve", "solve_triangular", "svd",
]
