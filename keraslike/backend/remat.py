"""`keras.remat` and `keras.RematScope`: recompute activations in the backward pass instead of
storing them."""

import collections
import functools
import threading

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


RematMode = collections.namedtuple("RematMode", ["mode", "output_size_threshold", "layer_names"])
_MODES = ("full", "activations", "larger_than", "list_of_layers", None)
_scopes = threading.local()


class RematScope:
    """A context manager: layers created inside it rematerialize (recompute in the backward
    pass, `torch.utils.checkpoint`) when called.

    The mode is fixed when a layer is created (as in Keras); calling it later, inside or
    outside a scope, does not change it. A functional `Model` created in a scope runs its
    layers' calls rematerialized, not its own call as one block. Values and gradients are unchanged: only the memory
    of activations is traded for a second forward pass of the chosen calls.

    Args:
        mode: `"full"` (every layer created in the scope), `"activations"` (the `activation`
            of layers that have one, e.g. `Dense(..., activation="relu")`), `"larger_than"`
            (layers whose output has more than `output_size_threshold` elements, unknown
            dimensions counting as 1), `"list_of_layers"` (the layers named in
            `layer_names`) or `None` (no rematerialization).
        output_size_threshold: The element count of `"larger_than"`. Defaults to `1024`.
        layer_names: The layer names of `"list_of_layers"`. Defaults to none.

    Example:

    ```python
    with keras.RematScope(mode="list_of_layers", layer_names=["dense_1"]):
        layer1 = keras.layers.Dense(128, name="dense_1")  # rematerialized
        layer2 = keras.layers.Dense(64, name="dense_2")   # not
    ```
    """

    def __init__(self, mode="full", output_size_threshold=1024, layer_names=None):
        if mode not in _MODES:
            raise ValueError(
                f"Invalid mode '{mode}'. Supported modes are: 'full', 'activations', "
                "'larger_than', 'list_of_layers', or  None."
            )
        self.mode = mode
        self.output_size_threshold = output_size_threshold
        self.layer_names = layer_names or []

    def __enter__(self):
        _stack().append(self)
        return self

    def __exit__(self, *exc_info):
        _stack().pop()


def _stack():
    stack = getattr(_scopes, "stack", None)
    if stack is None:
        stack = _scopes.stack = []
    return stack


def get_current_remat_mode():
    """The innermost `RematScope`'s settings as a `RematMode`, or `None` outside any scope."""
    stack = _stack()
    if not stack:
        return None
    scope = stack[-1]
    return RematMode(scope.mode, scope.output_size_threshold, scope.layer_names)
