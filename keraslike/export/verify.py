"""Checks an exported artifact against the eager model, at the traced size and at a new one."""

import numpy as np
import torch


class ExportVerificationError(ValueError):
    """Raised when an exported artifact does not compute what the eager model computes."""


def tolerance(dtype):
    """`(rtol, atol)` for comparing outputs of `dtype` (float32 unless half precision)."""
    if dtype in (torch.float16, torch.bfloat16):
        return 1e-2, 1e-2
    return 1e-4, 1e-5


def compare(name, expected, actual, where):
    """Raises `ExportVerificationError` with the numbers when `actual` differs from `expected`.

    Args:
        name: The output's name, for the message.
        expected: The eager model's output (a torch tensor).
        actual: The artifact's output (a torch tensor or numpy array).
        where: What was run, for the message (e.g. "the ONNX model at batch 3").
    """
    expected = expected.detach().cpu()
    actual = torch.as_tensor(np.asarray(actual)) if not isinstance(actual, torch.Tensor) else actual.detach().cpu()
    if tuple(actual.shape) != tuple(expected.shape):
        raise ExportVerificationError(
            f'Output "{name}" of {where} has shape {tuple(actual.shape)}, but the eager model '
            f"gives shape {tuple(expected.shape)}."
        )
    if not expected.is_floating_point():
        if not torch.equal(actual.to(expected.dtype), expected):
            raise ExportVerificationError(f'Output "{name}" of {where} differs from the eager model.')
        return
    rtol, atol = tolerance(expected.dtype)
    expected32, actual32 = expected.float(), actual.float()
    difference = (actual32 - expected32).abs()
    allowed = atol + rtol * expected32.abs()
    if not bool((difference <= allowed).all()) or not bool(torch.isfinite(actual32).eq(torch.isfinite(expected32)).all()):
        raise ExportVerificationError(
            f'Output "{name}" of {where} differs from the eager model: largest absolute '
            f"difference {difference.max().item():.3g} (allowed {atol:g} + {rtol:g} * |expected|)."
        )
