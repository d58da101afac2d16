"""The `Metric` base class: a `torch.nn.Module` whose state lives in buffers.

State tensors are registered buffers, so `metric.to("cuda")`, `metric.state_dict()` and
`metric.buffers()` work as for any module; `variables` lists them in creation order. Updates are
in-place tensor ops on those buffers: no value is read back to the host in `update_state`,
`result` or `reset_state`, so metrics can accumulate on the GPU inside a compiled step.

Device rule: inputs that are tensors decide the device. When the state lives elsewhere it is
moved there (once; later calls find it in place). Numpy inputs go to the state's device.
"""

import torch

from keraslike.backend.naming import to_snake_case, uniquify
from keraslike.layers.variable import BufferVariable, as_buffer_variable, set_buffer_attribute
from keraslike.losses.loss import as_tensor, standardize_dtype, torch_dtype


class Metric(torch.nn.Module):
    """Encapsulates metric logic and state.

    Args:
        dtype: The dtype of the metric's computations and state; defaults to floatx.
        name: Name of the metric instance; defaults to the snake-cased class name, made unique.

    Subclasses implement `update_state(y_true, y_pred, sample_weight=None)` and `result()`, and
    create state in `__init__` (or lazily, on the first update) with `add_variable`.

    Example:

    ```python
    m = keras.metrics.Mean()
    m.update_state(torch.tensor([1.0, 2.0, 3.0]))
    m.result()  # tensor(2.)
    m.to("cuda")  # state moves like any module's buffers
    ```
    """

    def __init__(self, dtype=None, name=None):
        super().__init__()
        self.name = name or uniquify(to_snake_case(self.__class__.__name__))
        self._dtype = standardize_dtype(dtype)
        self._torch_dtype = torch_dtype(self._dtype)

    @property
    def dtype(self):
        """The metric's dtype, as a string (`"float32"`)."""
        return self._dtype

    @property
    def variables(self):
        """The state tensors (this metric's and its sub-metrics'), in creation order."""
        return list(self.buffers())

    def add_variable(self, shape, initializer="zeros", dtype=None, aggregation="sum", name=None):
        """Creates a zero-filled state variable registered as buffer `name`, and returns it.

        In a metric class written outside keraslike the state is a tensor with Keras's
        Variable methods (`assign`, `assign_add`, `assign_sub`, `value`, `numpy()`).

        Args:
            shape: Shape of the state tensor.
            initializer: Only `"zeros"` (what every built-in metric uses).
            dtype: Dtype; defaults to the metric's dtype.
            aggregation: Accepted for Keras compatibility (state is always summed across replicas).
            name: Buffer name; the state is then also the attribute `self.<name>`.
        """
        if initializer not in ("zeros", None) and type(initializer).__name__ != "Zeros":
            raise ValueError(f"Metric variables are zero-initialized. Received: initializer={initializer}")
        if not name:
            raise ValueError("`add_variable` needs a `name`: the state is registered as that buffer.")
        dtype = torch_dtype(dtype) if dtype is not None else self._torch_dtype
        tensor = torch.zeros(tuple(shape), dtype=dtype, device=self._state_device())
        if self._state_as_variables():
            tensor = as_buffer_variable(tensor, name, f"{self.name}/{name}")
        self.register_buffer(name, tensor)
        return tensor

    @classmethod
    def _state_as_variables(cls):
        # A metric written for Keras (a user's subclass) updates its state with Keras's Variable
        # API (`assign`, `assign_add`, `value`, `numpy()`): its buffers get it. keraslike's own
        # metrics update plain buffers with in-place torch ops, which `torch.compile` (AOT
        # autograd) takes; a tensor subclass there fails to dispatch.
        return not cls.__module__.startswith("keraslike.")

    def _apply(self, fn, *args, **kwargs):
        # `.to()` replaces buffers by plain tensors: give the state its Variable API back.
        names = {key: buffer.__dict__.get("_keras_name", key) for key, buffer in self._buffers.items()
                 if buffer is not None}
        result = super()._apply(fn, *args, **kwargs)
        if not self._state_as_variables():
            return result
        for key, buffer in list(self._buffers.items()):
            if buffer is not None and type(buffer) is torch.Tensor:
                name = names.get(key, key)
                self._buffers[key] = as_buffer_variable(buffer, name, f"{self.name}/{name}")
        return result

    add_weight = add_variable

    def __setattr__(self, name, value):
        # Keras's idiom `self.tp = self.add_variable(..., name="true_positives")`: the attribute
        # must stay the buffer itself (which `.to()` replaces), so the buffer takes that name.
        if isinstance(value, torch.Tensor) and name not in self.__dict__.get("_buffers", {}):
            buffers = self.__dict__.get("_buffers", {})
            for old_name, buffer in list(buffers.items()):
                if buffer is value:
                    del buffers[old_name]
                    self.register_buffer(name, value)
                    return
        if isinstance(value, BufferVariable):
            set_buffer_attribute(self, name, value)
            return
        super().__setattr__(name, value)

    def _state_device(self):
        for buffer in self.buffers():
            return buffer.device
        return None

    def _inputs(self, *xs):
        """Detached tensors on one device (that of the first tensor input, else of the state).

        Moves the state to that device when it lives elsewhere. `None` entries stay `None`.
        """
        device = None
        for x in xs:
            if isinstance(x, torch.Tensor):
                device = x.device
                break
        state_device = self._state_device()
        if device is None:
            device = state_device
        elif state_device is not None and state_device != device:
            self.to(device)
        out = []
        for x in xs:
            if x is None:
                out.append(None)
            else:
                x = as_tensor(x, device=device)
                out.append(x.detach() if x.requires_grad else x)
        return out

    def reset_state(self):
        """Zeroes all state tensors, in place (compiled code holding them stays valid)."""
        for buffer in self.buffers():
            buffer.zero_()

    def update_state(self, *args, **kwargs):
        """Accumulates statistics for the metric."""
        raise NotImplementedError

    def result(self):
        """Returns the metric value from the state: a 0-d tensor (or a tensor/dict of them)."""
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        """`update_state(*args, **kwargs)`, then returns `result()`."""
        self.update_state(*args, **kwargs)
        return self.result()

    def forward(self, *args, **kwargs):
        return self(*args, **kwargs)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{self.__class__.__name__} name={self.name}>"

    __str__ = __repr__
