"""Optimizer variables: creating and tracking them, saving and loading them, and the config.

Split from `optimizer.py` (public API) and `_update.py` (the update path); `Optimizer` inherits
this mixin. The saving code should use `get_slot_state()` / `set_slot_state()`, or Keras's own
index-keyed `save_own_variables()` / `load_own_variables()` for `.keras` files.
"""

import warnings

import numpy as np
import torch

from keraslike.backend import config as backend_config
from keraslike.layers.variable import keras_layout_view, stored_weight
from keraslike.layers.weight_layout import GradientLayout
from keraslike.optimizers import schedules
from keraslike.optimizers.schedules.learning_rate_schedule import LearningRateSchedule
from keraslike.serialization.registry import get_registered_name, get_registered_object


def _initial_value(initializer, reference=None, shape=None, dtype=None, device=None):
    """A new tensor filled per `initializer`: "zeros", "ones", a number, or a callable."""
    if reference is not None:
        like = dict(memory_format=torch.preserve_format)
        if initializer in ("zeros", None):
            return torch.zeros_like(reference, **like)
        if initializer == "ones":
            return torch.ones_like(reference, **like)
        if isinstance(initializer, (int, float)):
            return torch.full_like(reference, float(initializer), **like)
        shape, dtype, device = tuple(reference.shape), reference.dtype, reference.device
    if initializer in ("zeros", None):
        return torch.zeros(shape, dtype=dtype, device=device)
    if initializer == "ones":
        return torch.ones(shape, dtype=dtype, device=device)
    if isinstance(initializer, (int, float)):
        return torch.full(shape, float(initializer), dtype=dtype, device=device)
    if callable(initializer):
        return torch.as_tensor(initializer(shape, dtype=dtype), dtype=dtype).to(device)
    raise ValueError(
        "Optimizer variable initializers are 'zeros', 'ones', a number or a callable "
        f"`(shape, dtype) -> tensor`. Received: initializer={initializer!r}"
    )


class OptimizerStateMixin:
    """Variable tracking, `get_slot_state`/`set_slot_state`, Keras-style saving and config."""

    def _init_state_tracking(self):
        self._variables = []  # tensors, in Keras's order
        self._variable_names = []  # unique names, parallel to `_variables`
        self._variable_refs = []  # index of the model variable a slot mirrors, or None
        self._keras_layouts = {}  # id(model weight) -> (weight, Layout): `_learn_keras_layouts`

    def _learn_keras_layouts(self, pairs):
        """Remembers the Keras layouts of model weights, `(stored tensor, Layout)` pairs, so that
        `variables` and `set_weights` show and take their slots in Keras's layouts. Learnt
        from the `KerasLayoutView`s of `model.trainable_weights` given to `build` or `apply`
        (`fit` builds on them too); wrapper optimizers pass them on to their inner ones."""
        for tensor, layout in pairs:
            self._keras_layouts[id(tensor)] = (tensor, layout)

    def _slot_layout_of(self, variable_index):
        """The Keras layout (a `GradientLayout`) of model variable `variable_index`'s slots, or
        `None` when it is not known or is its stored layout."""
        if not self._keras_layouts:
            return None
        weight = self._trainable_variables[variable_index]
        entry = self._keras_layouts.get(id(weight))
        return GradientLayout(entry[1]) if entry is not None and entry[0] is weight else None

    def _slot_layout(self, index):
        """The Keras layout of state tensor `index` (a slot of a weight whose Keras layout
        differs from its stored one), or `None` (shown as stored)."""
        ref = self._variable_refs[index]
        return None if ref is None else self._slot_layout_of(ref)

    def _track(self, tensor, name, ref=None):
        base, n = name, 1
        while name in self._variable_names:
            name, n = f"{base}_{n}", n + 1
        self._variables.append(tensor)
        self._variable_names.append(name)
        self._variable_refs.append(ref)
        if not torch.compiler.is_compiling():
            # Keras's path of an optimizer variable, under the optimizer's scope:
            # `adam/dense_kernel_momentum` (a plain attribute; a tensor's `name` is torch's).
            tensor.path = f"{self.name}/{name}"
        return tensor

    def _untrack(self, tensor):
        for i, t in enumerate(self._variables):
            if t is tensor:
                del self._variables[i], self._variable_names[i], self._variable_refs[i]
                return

    @staticmethod
    def _make_reference_names(variables):
        """Keras names slots `{variable path with / as _}_{slot}`; unnamed tensors get one."""
        names = []
        for i, v in enumerate(variables):
            name = getattr(v, "path", None) or getattr(v, "name", None)  # `name`: None on tensors
            names.append(str(name).replace("/", "_").replace(":", "_") if name else f"variable_{i}")
        return names

    @property
    def variables(self):
        """The optimizer's state tensors, in Keras's order (`iteration`, `learning_rate`, slots).

        The slots of a weight shown in Keras's layout by `model.trainable_weights` (a Dense
        kernel's momentum) are shown in that layout too, as `KerasLayoutView`s (`numpy()`,
        `assign` through), once the optimizer was built on (or applied to) those weights, as
        `fit` and Keras's training loop do; built on `model.parameters()` its slots are in
        torch's layouts, like those tensors. Built on each access.
        """
        return [self._shown_variable(i) for i in range(len(self._variables))]

    def _shown_variable(self, index):
        tensor = self._variables[index]
        layout = self._slot_layout(index)
        if layout is None:
            return tensor
        view = keras_layout_view(tensor, layout)
        if view is not tensor:
            view.__dict__["_keras_name"] = self._variable_names[index]
            view.__dict__["_keras_path"] = getattr(tensor, "path", None)
        return view

    def add_variable(self, shape, initializer="zeros", dtype=None, name=None):
        """Creates a tracked optimizer variable on the optimizer's device.

        Args:
            shape: Shape tuple.
            initializer: "zeros", "ones", a number, or a callable `(shape, dtype) -> tensor`.
            dtype: A torch dtype (or its name); defaults to `floatx()`.
            name: Name of the variable, used as its key in `get_slot_state()`.

        Returns:
            The new tensor.
        """
        dtype = dtype or backend_config.floatx()
        dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
        value = _initial_value(initializer, shape=tuple(shape), dtype=dtype,
                               device=self._state_device)
        return self._track(value, name or "variable")

    def add_variable_from_reference(self, reference_variable, name=None, initializer="zeros"):
        """Creates a slot shaped like a model variable (same shape, dtype, device, strides).

        Args:
            reference_variable: The model variable the slot belongs to.
            name: Slot name, e.g. `"momentum"`; the variable is named `{reference}_{name}`.
            initializer: "zeros", "ones", a number, or a callable.

        Returns:
            The new tensor.
        """
        reference_variable = stored_weight(reference_variable)
        index = self._trainable_variables_indices.get(id(reference_variable))
        if index is not None:
            prefix = self._reference_names[index]
        else:
            name_attr = getattr(reference_variable, "path", None) or getattr(
                reference_variable, "name", None)
            prefix = str(name_attr).replace("/", "_") if name_attr else "variable"
        value = _initial_value(initializer, reference=reference_variable.detach())
        return self._track(value, f"{prefix}_{name or 'var'}", ref=index)

    def add_optimizer_variables(self, trainable_variables, name, initializer="zeros"):
        """Creates one slot per model variable for each name (interleaved, as Keras).

        Args:
            trainable_variables: The model variables.
            name: A slot name, or a list of names.
            initializer: One initializer, or one per name.

        Returns:
            A list of slots, or a tuple of lists when `name` is a list.
        """
        names = [name] if isinstance(name, str) else list(name)
        if isinstance(initializer, (list, tuple)):
            inits = list(initializer)
        else:
            inits = [initializer] * len(names)
        if len(names) != len(inits):
            raise ValueError(
                "The number of provided names must match the number of provided initializers. "
                f"Received name='{name}', initializer='{initializer}'"
            )
        out = tuple([] for _ in names)
        overwritten = getattr(self, "_overwritten_ids", ())
        for v in trainable_variables:
            for slots, n, init in zip(out, names, inits):
                if id(v) in overwritten:  # as Keras: no state for `overwrite_with_gradient`
                    slots.append(None)
                else:
                    slots.append(self.add_variable_from_reference(v, name=n, initializer=init))
        return out[0] if isinstance(name, str) else out

    def _relocate(self):
        """Moves every state tensor to its model variable's device and dtype, in place."""
        variables = self._trainable_variables
        self._state_device = variables[0].device
        for t, ref in zip(self._variables, self._variable_refs):
            if ref is not None:
                target = variables[ref]
                t.data = t.data.to(device=target.device, dtype=target.dtype)
            else:
                t.data = t.data.to(self._state_device)
        self._group_cache = {}

    # ----------------------------------------------------------------- saving

    def get_slot_state(self):
        """Returns every state tensor by its unique name, in `variables` order.

        The tensors are the live state (no copies): save them, or clone them to keep a snapshot.
        Names follow Keras's variable names: `iteration`, `learning_rate`, `{variable}_momentum`,
        ... where `{variable}` is the model variable's `path` attribute (`dense/kernel`, set by
        `Layer.add_weight`) with `/` replaced by `_`, or `variable_{i}` for a tensor without
        one. A slot has its model variable's torch layout (a Dense slot is `(out, in)`).

        Returns:
            A dict `name -> tensor`.
        """
        return dict(zip(self._variable_names, self._variables))

    def set_slot_state(self, state, strict=True):
        """Loads state saved by `get_slot_state()` into this (built) optimizer, in place.

        Args:
            state: A dict `name -> tensor or array`.
            strict: When `True`, missing or unexpected names are a `ValueError`.
        """
        if not self.built and any(name not in self._variable_names for name in state):
            raise ValueError(
                f"Optimizer '{self.name}' must be built before its slot state can be loaded: "
                "call `optimizer.build(trainable_variables)` first."
            )
        mine = dict(zip(self._variable_names, self._variables))  # own state (wrappers add theirs)
        if strict:
            missing = [n for n in mine if n not in state]
            unexpected = [n for n in state if n not in mine]
            if missing or unexpected:
                raise ValueError(
                    f"Slot state does not match optimizer '{self.name}'. Missing: {missing}. "
                    f"Unexpected: {unexpected}."
                )
        with torch.no_grad():
            for name, tensor in mine.items():
                if name in state:
                    self._load_into(tensor, state[name], name)
        self._host_iterations = int(self._iterations)  # host sync, once, at load time

    def _load_into(self, tensor, value, name, layout=None):
        """Copies `value` into `tensor`; `layout`: `value` is in that (Keras) layout."""
        value = torch.as_tensor(np.asarray(value) if not isinstance(value, torch.Tensor) else value)
        shape = tuple(tensor.shape) if layout is None else layout.keras_shape(tensor.shape)
        if tuple(value.shape) != shape:
            raise ValueError(
                f"Optimizer variable '{name}' has shape {shape} not compatible with "
                f"provided weight shape {tuple(value.shape)}."
            )
        tensor.copy_(value if layout is None else layout.to_torch(value))

    def set_weights(self, weights):
        """Sets the state tensors from a list of arrays, in `variables` order and layouts (as
        Keras: a slot shown in Keras's layout by `variables` takes a Keras-layout array)."""
        if not self.built:
            raise ValueError(
                "You are calling `set_weights()` on an optimizer that has not yet been built. "
                "Please call `optimizer.build(trainable_variables)` to create the optimizer "
                "weights before calling `set_weights()`."
            )
        with torch.no_grad():
            for i, (name, tensor, value) in enumerate(
                    zip(self._variable_names, self._variables, weights)):
                self._load_into(tensor, value, name, self._slot_layout(i))
        self._host_iterations = int(self._iterations)

    def _keras_state(self):
        """`(state tensor, model variable it mirrors or None)` for every variable a Keras file
        stores, in Keras's order (wrapper optimizers append their inner optimizers')."""
        variables = self._trainable_variables
        return [(t, variables[r] if r is not None else None)
                for t, r in zip(self._variables, self._variable_refs)]

    def save_own_variables(self, store):
        """Writes `variables` into `store` under keys `"0"`, `"1"`, ... (Keras's file layout;
        a wrapper optimizer's `variables` include its inner optimizers')."""
        for i, t in enumerate(self.variables):
            store[str(i)] = t.numpy() if hasattr(t, "assign") else t.detach().cpu().numpy()

    def load_own_variables(self, store):
        """Reads state written by `save_own_variables` (or by Keras into a `.keras` file)."""
        count = len(self.variables)
        if len(store.keys()) != count:
            warnings.warn(
                f"Skipping variable loading for optimizer '{self.name}', because it has "
                f"{count} variables whereas the saved optimizer has {len(store.keys())} variables.",
                stacklevel=2,
            )
            return
        self.set_weights([store[str(i)] for i in range(count)])

    # ----------------------------------------------------------------- config

    def get_config(self):
        """Returns the optimizer's constructor arguments, with Keras 3's keys and values.

        Returns:
            A JSON-safe dict (a schedule is serialized in Keras's format).
        """
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            lr = schedules.serialize(lr)
        elif isinstance(lr, torch.Tensor):
            lr = float(lr)  # the float32 value, e.g. 0.0010000000474974513, as Keras reports
        else:
            fn_name = get_registered_name(lr)
            lr = {"module": getattr(lr, "__module__", None), "class_name": "function",
                  "config": fn_name, "registered_name": fn_name}
        return {
            "name": self.name,
            "learning_rate": lr,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Creates an optimizer from the output of `get_config()` (no state is restored).

        Args:
            config: A dict from `get_config()` (Keras's or keraslike's).
            custom_objects: Optional dict of custom schedules or functions.

        Returns:
            An optimizer instance.
        """
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            if lr.get("class_name") == "function":
                fn_name = lr.get("registered_name") or lr["config"]
                fn = get_registered_object(fn_name, custom_objects)
                if fn is None:
                    raise TypeError(
                        f"Could not locate learning rate function {lr['config']!r}: register it "
                        "with `keras.saving.register_keras_serializable()` or pass it in "
                        "`custom_objects`."
                    )
                config["learning_rate"] = fn
            else:
                config["learning_rate"] = schedules.deserialize(lr, custom_objects=custom_objects)
        return cls(**config)
