"""Gradient clipping as Keras 3 does it, with `torch._foreach_*` ops and no host sync.

Every function returns new tensors and leaves its inputs alone: the inputs are often the
parameters' `.grad`, which the caller owns.
"""

import torch


def clip_by_norm(grads, clipnorm):
    """Clips each gradient to an L2 norm of at most `clipnorm` (Keras's `clipnorm`).

    Keras computes `g * clipnorm / max(norm(g), clipnorm)`; a zero gradient stays zero.
    """
    norms = torch._foreach_norm(grads)  # one 0-d tensor per gradient, on its device
    torch._foreach_clamp_min_(norms, float(clipnorm))
    torch._foreach_reciprocal_(norms)
    torch._foreach_mul_(norms, float(clipnorm))
    return torch._foreach_mul(grads, norms)


def global_norm(grads):
    """Returns the L2 norm of all gradients together, as a 0-d float tensor."""
    norms = torch._foreach_norm(grads)
    device = norms[0].device
    stacked = torch.stack([n.to(device=device, dtype=torch.float32) for n in norms])
    return torch.linalg.vector_norm(stacked)


def clip_by_global_norm(grads, clipnorm):
    """Scales all gradients together so that their global norm is at most `clipnorm`.

    As in Keras, a non-finite global norm turns every gradient into NaN rather than passing
    an unclipped step through.
    """
    norm = global_norm(grads)
    scale = torch.clamp(torch.reciprocal(norm), max=1.0 / clipnorm) * clipnorm
    scale = scale + (norm - norm)  # NaN when the norm is inf or NaN, a no-op otherwise
    return torch._foreach_mul(grads, scale)


def clip_by_value(grads, clipvalue):
    """Clips every gradient element to `[-clipvalue, clipvalue]`."""
    clipped = torch._foreach_clamp_min(grads, -float(clipvalue))
    torch._foreach_clamp_max_(clipped, float(clipvalue))
    return clipped
