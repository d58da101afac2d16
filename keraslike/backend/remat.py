"""`keras.remat`: recompute a function's activations in the backward pass instead of storing them."""

import functools

import torch
import torch.utils.checkpoint


def remat(f):
    """Wraps `f` so its intermediate activations are recomputed during backpropagation.

    Memory for activations inside `f` is traded for a second forward pass of `f` in the backward
    pass (`torch.utils.checkpoint.checkpoint`, non-reentrant). Values and gradients are unchanged.

    Args:
        f: A function of tensors.

    Returns:
        The wrapped function.

    Example:

    ```python
    block = keras.remat(lambda x: ops.relu(x @ w1) @ w2)
    ```
    """

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        if not torch.is_grad_enabled():
            return f(*args, **kwargs)
        return torch.utils.checkpoint.checkpoint(f, *args, use_reentrant=False, **kwargs)

    return wrapped
