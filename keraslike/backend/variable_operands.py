"""What Keras's Variable does that a torch parameter does not: numpy operands and `assign` checks.

Shared by `keraslike.Variable` and the layers' weights (`keraslike.layers.variable`).
"""

import numpy as np
import torch

# numpy ufuncs a weight may meet as `weight <op> array`, and the torch function computing each.
_TORCH_UFUNCS = {
    np.add: torch.add, np.subtract: torch.sub, np.multiply: torch.mul,
    np.true_divide: torch.true_divide, np.floor_divide: torch.floor_divide,
    np.remainder: torch.remainder, np.power: torch.pow, np.matmul: torch.matmul,
    np.maximum: torch.maximum, np.minimum: torch.minimum,
}  # (comparisons reach numpy reflected, `array > weight`, which Keras also leaves to numpy)


def variable_array_ufunc(variable, ufunc, method, inputs, kwargs, is_variable):
    """`__array_ufunc__` of a weight: `weight * array` stays on the autograd graph.

    torch's operators decline numpy arrays and numpy takes over. As Keras's Variable
    (`ops.multiply(value, array)`), the weight first gives a tensor (numpy would detach it, or
    fail on a weight that requires grad); `array * weight` stays numpy's detached array, as in
    Keras. `is_variable(x)` tells weights among `inputs`.
    """
    torch_op = _TORCH_UFUNCS.get(ufunc)
    if method == "__call__" and not kwargs and torch_op is not None and inputs[0] is variable:
        device = variable.device
        return torch_op(*(torch.as_tensor(x, device=device) if isinstance(x, (np.ndarray, np.generic))
                          else x for x in inputs))
    arrays = tuple(x.numpy() if is_variable(x) else x for x in inputs)
    return getattr(ufunc, method)(*arrays, **kwargs)


def check_assign_shape(variable, value):
    """Keras's `assign` check: the value has the variable's shape (no silent broadcasting)."""
    shape = tuple(getattr(value, "shape", np.shape(value)))
    if shape != tuple(variable.shape):
        raise ValueError(
            "The shape of the target variable and the shape of the target value in "
            f"`variable.assign(value)` must match. variable.shape={tuple(variable.shape)}, "
            f"Received: value.shape={shape}. Target variable: {variable!r}"
        )
