"""Weights with Keras's Variable API: `v.value`, `v.assign(x)`, `v.numpy()`, `v.path`, `v.name`.

A trainable weight is a `Variable`, an `nn.Parameter` subclass: it is the parameter itself (no
wrapper, no copy), so `state_dict()`, `.to()`, DDP, `torch.compile` and optimizers see an ordinary
parameter (measured: same forward time, 0 graph breaks). A non-trainable weight is a buffer of
class `BufferVariable`, a plain-tensor subclass with torch-function handling disabled (ops on it
cost what they cost on a tensor). Both speak the layout they are stored in (torch's): `v.value`
is `v`, `v.assign(v - lr * v.value.grad)` is consistent; Keras's layouts are at the layer's
boundary (`get_weights`, `layer.kernel`).
"""

import torch
from torch import nn

from keraslike.backend.variable_operands import check_assign_shape, variable_array_ufunc
from keraslike.ops.core import array_to_tensor, tensor_to_numpy


class _VariableAPI:
    """The Keras Variable methods shared by `Variable` and `BufferVariable`."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        # `weight * array` stays on the autograd graph, as Keras's Variable (see the helper).
        return variable_array_ufunc(self, ufunc, method, inputs, kwargs,
                                    lambda x: isinstance(x, _VariableAPI))

    @property
    def value(self):
        """The tensor itself (so `v.value.grad` is the parameter's gradient)."""
        return self

    @property
    def trainable(self):
        """Whether training updates the weight (its `requires_grad`)."""
        return self.requires_grad

    @property
    def name(self):
        """The weight's Keras name (`"kernel"`, `"bias"`, ...)."""
        return self.__dict__.get("_keras_name") or "variable"

    @property
    def path(self):
        """`"<layer name>/<weight name>"`, as Keras's `Variable.path`."""
        return self.__dict__.get("_keras_path") or self.name

    @path.setter
    def path(self, value):
        self.__dict__["_keras_path"] = value

    def assign(self, value):
        """Copies `value` (same shape, in the stored layout) into the weight; returns it."""
        check_assign_shape(self, value)
        with torch.no_grad():
            self.copy_(array_to_tensor(value))
        return self

    def assign_add(self, value):
        """Adds `value` to the weight in place; returns it."""
        with torch.no_grad():
            self.add_(torch.as_tensor(value, dtype=self.dtype, device=self.device))
        return self

    def assign_sub(self, value):
        """Subtracts `value` from the weight in place; returns it."""
        with torch.no_grad():
            self.sub_(torch.as_tensor(value, dtype=self.dtype, device=self.device))
        return self

    def numpy(self, *, force=False):
        """The weight's value as a numpy array (detached, on the host)."""
        if self.dtype == torch.bfloat16:
            return tensor_to_numpy(self.detach().as_subclass(torch.Tensor))
        return torch.Tensor.numpy(self.detach().cpu(), force=force)

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        if dtype is not None and array.dtype != dtype:
            return array.astype(dtype)
        return array.copy() if copy else array


class Variable(_VariableAPI, nn.Parameter):
    """A trainable weight: an `nn.Parameter` with Keras's Variable API."""

    def __new__(cls, data=None, requires_grad=True):
        return nn.Parameter.__new__(cls, data, requires_grad)

    def __deepcopy__(self, memo):
        result = nn.Parameter.__deepcopy__(self, memo)
        result.__dict__.update(self.__dict__)
        return result

    def __repr__(self):
        return f"<Variable path={self.path}, shape={tuple(self.shape)}, dtype={self.dtype}>"


class BufferVariable(_VariableAPI, nn.Parameter):
    """A non-trainable weight (a registered buffer) with Keras's Variable API.

    It lives in the module's buffers (not in `parameters()`, never `requires_grad`). It is an
    `nn.Parameter` subclass only because `torch.compile`'s AOT autograd takes parameters and plain
    tensors as graph inputs but refuses other tensor subclasses. `nn.Module.__setattr__` would
    register it as a parameter: modules set it with `set_buffer_attribute`.
    """

    def __new__(cls, data=None):
        return nn.Parameter.__new__(cls, data, False)

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = BufferVariable(torch.Tensor.clone(self))
        result.__dict__.update(self.__dict__)
        memo[id(self)] = result
        return result

    def __repr__(self):
        return f"<Variable path={self.path}, shape={tuple(self.shape)}, dtype={self.dtype}>"


class KerasLayoutView(_VariableAPI, torch.Tensor):
    """A weight seen in Keras's layout (e.g. a Dense kernel as `(input_dim, units)`).

    It is a view of the stored weight, so it has Keras's Variable API: `numpy()` and `np.array`
    give the values, `assign` writes through to the stored weight, `path`/`name`/`trainable` are
    the weight's. Ops on it return plain tensors and keep the autograd link to the weight.
    """

    __torch_function__ = torch._C._disabled_torch_function_impl

    def __repr__(self):
        return f"<Variable path={self.path}, shape={tuple(self.shape)}, dtype={self.dtype}>"


def keras_layout_view(stored, layout):
    """`stored` (a weight in torch's layout) seen in Keras's layout, with the Variable API.

    Under `torch.compile` (and for identity layouts) the plain view is returned: a tensor
    subclass would only cost the compiler a guard.
    """
    view = layout.to_keras(stored)
    if view is stored or torch.compiler.is_compiling():
        return view
    result = view.as_subclass(KerasLayoutView)
    for key in ("_keras_name", "_keras_path"):
        if key in stored.__dict__:
            result.__dict__[key] = stored.__dict__[key]
    return result


def set_buffer_attribute(module, name, value):
    """What `nn.Module.__setattr__` does for a plain tensor, for a `BufferVariable` `value`.

    The buffer called `name` is replaced; any other name becomes a plain attribute.
    """
    buffers = module.__dict__["_buffers"]
    if name in buffers:
        buffers[name] = value
    else:
        object.__setattr__(module, name, value)


def as_buffer_variable(tensor, name, path):
    """`tensor` viewed as a `BufferVariable` (no copy), named `name` at `path`."""
    variable = BufferVariable(tensor.detach())
    variable.__dict__["_keras_name"] = name
    variable.__dict__["_keras_path"] = path
    return variable
