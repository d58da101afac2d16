"""`keras.Variable`: a named `torch.nn.Parameter` with Keras's `assign` API.

A `Variable` is a parameter: assigned to a layer it is one of its weights, `state_dict()` holds it
and optimizers update it. Keras's `value`, `assign`, `assign_add`, `assign_sub`, `numpy()`,
`trainable`, `name` and `path` work on it; `dtype` and `shape` keep torch's meaning (a
`torch.dtype`, a `torch.Size`) so torch code that receives it is not surprised.
"""

import copy

import torch

from keraslike import initializers
from keraslike.backend.device import current_path
from keraslike.backend.naming import creation_index, uniquify
from keraslike.backend.variable_operands import check_assign_shape, variable_array_ufunc
from keraslike.ops.core import to_tensor, to_torch_dtype


class Variable(torch.nn.Parameter):
    """A tensor that holds state: a weight, a counter, a seed.

    Args:
        initializer: An initializer (name, instance or callable `(shape, dtype)`), or the initial
            value (tensor, array, Python number or list).
        shape: The shape, needed when `initializer` is callable.
        dtype: The dtype (default `keras.config.floatx()` for callables, else the value's).
        trainable: Whether gradients flow to it (`requires_grad`).
        autocast: Accepted for Keras compatibility.
        aggregation: Accepted for Keras compatibility (`"none"`, `"mean"`, `"sum"`, ...).
        synchronization: Accepted for Keras compatibility.
        name: The variable's name (default `"variable"`, made unique).

    Example:

    ```python
    v = keras.Variable(initializer="ones", shape=(2, 2), name="v")
    v.assign(v * 2)
    ```
    """

    def __new__(cls, initializer, shape=None, dtype=None, trainable=True, autocast=True,
                aggregation="none", synchronization="auto", name=None):
        if isinstance(initializer, str) or (
            callable(initializer) and not isinstance(initializer, torch.Tensor)
        ):
            if shape is None:
                raise ValueError(
                    "When creating a Variable from an initializer, the `shape` argument should "
                    f"be specified. Received: initializer={initializer} and shape={shape}"
                )
            value = initializers.get(initializer)(tuple(shape), dtype=dtype or "float32")
            value = torch.as_tensor(value)
        else:
            value = to_tensor(initializer, dtype=dtype)
            if shape is not None and tuple(value.shape) != tuple(shape):
                raise ValueError(
                    "Initial value has shape {}, but `shape` is {}.".format(tuple(value.shape), tuple(shape))
                )
        if dtype is not None:
            value = value.to(to_torch_dtype(dtype))
        grad = bool(trainable) and (value.is_floating_point() or value.is_complex())
        variable = torch.nn.Parameter.__new__(cls, value.detach(), requires_grad=grad)
        variable._trainable = bool(trainable)
        variable._name = name or uniquify("variable")
        # Keras's path: the name scopes it is created in (a layer's while it builds).
        parent = current_path()
        variable._path = f"{parent}/{variable._name}" if parent else variable._name
        variable._creation_index = creation_index()
        variable.aggregation = aggregation
        variable.synchronization = synchronization
        variable.autocast = autocast
        return variable

    def __init__(self, *args, **kwargs):
        pass

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = Variable(self.data.clone(memory_format=torch.preserve_format),
                          trainable=self._trainable, name=self._name)
        result.__dict__.update(copy.deepcopy(
            {k: v for k, v in self.__dict__.items() if k not in ("_name", "_trainable")}, memo
        ))
        result._path = self.path
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, proto):
        raise TypeError("keraslike never pickles; save variables with state_dict/safetensors.")

    @property
    def name(self):
        """The variable's name."""
        return self._name

    @property
    def path(self):
        """The variable's path: its name under the name scopes it was created in (`dense/v`)."""
        return self.__dict__.get("_path", self._name)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        # `variable * array` stays on the autograd graph, as Keras's Variable.
        return variable_array_ufunc(self, ufunc, method, inputs, kwargs,
                                    lambda x: isinstance(x, Variable))

    @property
    def trainable(self):
        """Whether the variable is trained (its `requires_grad`)."""
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        if self.is_floating_point() or self.is_complex():
            self.requires_grad_(bool(value))

    @property
    def value(self):
        """The variable itself (a tensor)."""
        return self

    def assign(self, value):
        """Sets the variable's value in place (same shape); returns the variable."""
        check_assign_shape(self, value)
        with torch.no_grad():
            self.copy_(to_tensor(value, device=self.device))
        return self

    def assign_add(self, value):
        """Adds `value` in place; returns the variable."""
        with torch.no_grad():
            self.add_(to_tensor(value, device=self.device))
        return self

    def assign_sub(self, value):
        """Subtracts `value` in place; returns the variable."""
        with torch.no_grad():
            self.sub_(to_tensor(value, device=self.device))
        return self

    def numpy(self, *, force=False):
        """The value as a NumPy array (copied to the host)."""
        return self.detach().cpu().numpy()

    def __array__(self, dtype=None, copy=None):
        # NumPy 2's signature (torch's lacks `copy`, which makes `np.array(v)` warn).
        array = self.numpy()
        return array if dtype is None or array.dtype == dtype else array.astype(dtype)

    def __repr__(self):
        return (f"<Variable path={self.path}, shape={tuple(self.shape)}, "
                f"dtype={str(self.dtype).replace('torch.', '')}, value={self.detach().cpu()}>")
