"""Weights with Keras's Variable API: `v.value`, `v.assign(x)`, `v.numpy()`, `v.path`, `v.name`.

A trainable weight is a `Variable`, an `nn.Parameter` subclass: it is the parameter itself (no
wrapper, no copy), so `state_dict()`, `.to()`, DDP, `torch.compile` and optimizers see an ordinary
parameter (measured: same forward time, 0 graph breaks). A non-trainable weight is a buffer of
class `BufferVariable`, a plain-tensor subclass with torch-function handling disabled (ops on it
cost what they cost on a tensor). Both speak the layout they are stored in (torch's): `v.value`
is `v`, `v.assign(v - lr * v.value.grad)` is consistent. Where a weight's Keras layout differs
(a Dense kernel, an LSTM bias), what the layer shows Keras users (`layer.weights`,
`layer.kernel`) is a `KerasLayoutView` of it, in Keras's layout, with the same API.
"""

import numpy as np
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
        """The weight's value now, as a new numpy array (on the host), as Keras's `numpy()`:
        a copy, so later training or `assign` does not change it."""
        return _host_copy(self.detach().as_subclass(torch.Tensor))

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        if dtype is not None and array.dtype != dtype:
            return array.astype(dtype)
        return array


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

    What `layer.weights`, `layer.trainable_weights`, ... and `layer.kernel`-style attributes
    return for a weight whose torch layout differs from Keras's. It is a tensor in Keras's layout
    computed from the stored weight (a view of it where the layout is a permutation or reshape;
    a copy for gate reorders and summed biases), with Keras's Variable API:

    - `numpy()` / `np.array(v)` read the stored weight now, in Keras's layout;
    - `assign`, `assign_add`, `assign_sub` take Keras-layout values and write them to the
      stored weight (through the layout's `to_torch`);
    - `v.value` is `v`, and `v.value.grad` is the stored weight's gradient in Keras's layout
      (`None` when it has none); setting it sets the stored weight's gradient;
    - `torch.autograd.grad(loss, [v.value, ...])` (and `torch.autograd.backward(loss,
      inputs=[v, ...])`) differentiate with respect to the stored weight, the tensor the forward
      used, and give its gradient in Keras's layout, as Keras's `v.value` (the parameter itself)
      does;
    - `path`, `name`, `trainable` are the stored weight's.

    Ops on it return plain tensors and keep the autograd link to the stored weight. Optimizers
    (`optimizer.apply(grads, model.trainable_weights)`) update the stored weight with the
    gradient converted back to torch's layout.
    """

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        # Only the autograd entry points are redirected (the view is computed from the stored
        # weight after the forward, so it is not on the forward's graph); every other op runs as
        # on a plain tensor and returns plain tensors, as with torch's disabled implementation.
        # The forward never sees a view (layers compute with the stored weight), so this costs
        # it nothing; an op on a view pays one Python call.
        kwargs = kwargs or {}
        with torch._C.DisableTorchFunctionSubclass():
            if func is torch.autograd.grad:
                return _grad_in_keras_layout(*args, **kwargs)
            if func is torch.autograd.backward:
                return _backward_to_stored(*args, **kwargs)
            return func(*args, **kwargs)

    def __repr__(self):
        return f"<Variable path={self.path}, shape={tuple(self.shape)}, dtype={self.dtype}>"

    @property
    def _stored(self):
        # The weight as the layer stores it (torch's layout): the parameter or buffer.
        return self.__dict__["_keras_stored"]

    @property
    def _weight_layout(self):
        # (not `layout`: that is the tensor's memory layout, `torch.strided`)
        return self.__dict__["_keras_layout"]

    @property
    def trainable(self):
        """Whether training updates the stored weight (its `requires_grad`)."""
        return self._stored.requires_grad

    @property
    def grad(self):
        """The stored weight's gradient in Keras's layout, or `None`.

        A view of the stored gradient where the layout is a permutation or reshape (so in-place
        edits such as `clip_grad_norm_` reach it); a copy for GRU gate reorders: there, set
        `v.value.grad = new` (or pass the edited gradients to the optimizer) instead.
        """
        grad = self._stored.grad
        return None if grad is None else self._weight_layout.delta_to_keras(grad)

    @grad.setter
    def grad(self, value):
        self._stored.grad = None if value is None else stored_delta(self, value)

    def _keras_value(self):
        return self._weight_layout.to_keras(self._stored.detach())

    def assign(self, value):
        """Writes `value` (Keras's layout and shape) to the stored weight; returns `self`."""
        check_assign_shape(self, value)
        stored = self._stored
        value = array_to_tensor(value).detach().to(device=stored.device, dtype=stored.dtype)
        if value.untyped_storage().data_ptr() == stored.untyped_storage().data_ptr():
            value = value.clone()  # `v.assign(v.T ...)`-style aliasing: copy before writing
        with torch.no_grad():
            stored.copy_(self._weight_layout.to_torch(value))
            self._refresh()
        return self

    def assign_add(self, value):
        """Adds `value` (Keras's layout) to the stored weight in place; returns `self`."""
        with torch.no_grad():
            self._stored.add_(stored_delta(self, value))
            self._refresh()
        return self

    def assign_sub(self, value):
        """Subtracts `value` (Keras's layout) from the stored weight in place; returns `self`."""
        with torch.no_grad():
            self._stored.sub_(stored_delta(self, value))
            self._refresh()
        return self

    def _refresh(self):
        # A view shares the stored memory; a computed tensor (gate reorder, summed bias) is
        # brought up to date so that ops on `self` see what was just assigned.
        if self.untyped_storage().data_ptr() != self._stored.untyped_storage().data_ptr():
            torch.Tensor.copy_(self, self._keras_value())

    def numpy(self, *, force=False):
        """The weight's value now in Keras's layout, as a new numpy array (on the host)."""
        return _host_copy(self._keras_value())


def _grad_in_keras_layout(outputs, inputs, **kwargs):
    """`torch.autograd.grad` with each `KerasLayoutView` in `inputs` replaced by its stored
    weight; the gradients of those come back in Keras's layout (`None` stays `None`)."""
    inputs = list(inputs)
    grads = torch.autograd.grad(outputs, [stored_weight(x) for x in inputs], **kwargs)
    batched = kwargs.get("is_grads_batched", False)

    def to_keras(x, g):
        if g is None or type(x) is not KerasLayoutView:
            return g
        to_keras = x._weight_layout.delta_to_keras
        # Batched gradients carry a leading batch axis the layout does not know.
        return torch.stack([to_keras(one) for one in g]) if batched else to_keras(g)

    return tuple(to_keras(x, g) for x, g in zip(inputs, grads))


def _backward_to_stored(tensors, *args, inputs=None, **kwargs):
    """`torch.autograd.backward` accumulating into the stored weights of the `KerasLayoutView`s
    in `inputs` (where `v.grad` reads them, in Keras's layout)."""
    if inputs is not None:
        inputs = [stored_weight(x) for x in inputs]
    return torch.autograd.backward(tensors, *args, inputs=inputs, **kwargs)


def _host_copy(tensor):
    """`tensor` as a numpy array that shares no memory with it (C order, as Keras's)."""
    array = tensor_to_numpy(tensor)
    return np.array(array, copy=True) if tensor.device.type == "cpu" else np.ascontiguousarray(array)


def stored_delta(view, value):
    """`value`, a Keras-layout difference (a gradient, an increment) for the `KerasLayoutView`
    `view`, in the stored weight's layout, dtype and device.

    Raises:
        ValueError: When `value` does not have `view`'s (Keras) shape.
    """
    stored = view._stored
    value = torch.as_tensor(array_to_tensor(value), dtype=stored.dtype, device=stored.device)
    if tuple(value.shape) != tuple(view.shape):
        raise ValueError(
            f"Expected a value of shape {tuple(view.shape)} (Keras's layout) for {view!r}, "
            f"received shape {tuple(value.shape)}."
        )
    return view._weight_layout.delta_to_torch(value)


def keras_layout_view(stored, layout):
    """`stored` (a weight in torch's layout) seen in Keras's layout, with the Variable API.

    Identity layouts give `stored` itself. Under `torch.compile` the plain view is returned: a
    tensor subclass would only cost the compiler a guard. So is a weight that is itself a
    tensor subclass with its own semantics (an FSDP2 `DTensor`).
    """
    view = layout.to_keras(stored)
    if view is stored or torch.compiler.is_compiling() or type(view) is not torch.Tensor:
        return view
    result = view.as_subclass(KerasLayoutView)
    for key in ("_keras_name", "_keras_path"):
        if key in stored.__dict__:
            result.__dict__[key] = stored.__dict__[key]
    result.__dict__["_keras_stored"] = stored
    result.__dict__["_keras_layout"] = layout
    return result


def stored_weight(variable):
    """The stored weight behind `variable` (a `KerasLayoutView`), or `variable` itself."""
    if type(variable) is KerasLayoutView:
        return variable.__dict__["_keras_stored"]
    return variable


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
