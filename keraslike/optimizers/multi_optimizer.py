"""MultiOptimizer: different optimizers for different variables, chosen by variable path."""

import re
from collections.abc import MutableMapping

import torch

from keraslike.optimizers import _serialization
from keraslike.optimizers.loss_scale_optimizer import LossScaleOptimizer
from keraslike.optimizers.optimizer import Optimizer
from keraslike.serialization.objects import serialize_function
from keraslike.serialization.registry import get_registered_object


class OptimizerMap(MutableMapping):
    """A mapping from variable paths (exact, or regular expressions) to optimizers.

    `optimizer_map[path]` is the optimizer of the key equal to `path`, else of the one key whose
    pattern `re.fullmatch`es it (more than one is a `ValueError`), else `default_optimizer`.
    Calling the map on a variable looks up its `path` (`"encoder/dense/kernel"`).

    Args:
        default_optimizer: The `Optimizer` of the variables no key matches.
        optimizer_map: Optional dict `{path or pattern: Optimizer}`.

    Example:

    >>> optimizer_map = keras.optimizers.OptimizerMap(keras.optimizers.SGD())
    >>> optimizer_map["encoder/.*"] = keras.optimizers.Adam()
    >>> optimizer_map["encoder/dense/kernel"].__class__.__name__
    'Adam'
    """

    def __init__(self, default_optimizer, optimizer_map=None):
        if not isinstance(default_optimizer, Optimizer):
            raise TypeError(
                f"default_optimizer must be a Keras Optimizer instance. Received: "
                f"{default_optimizer}"
            )
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError(f"optimizer_map must be a dictionary. Received: {optimizer_map}")
        self._default_optimizer = default_optimizer
        self._optimizer_map = {}
        for key, optimizer in (optimizer_map or {}).items():
            self[key] = optimizer

    @property
    def default_optimizer(self):
        """The optimizer of the variables no key matches."""
        return self._default_optimizer

    def __getitem__(self, key):
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        matches = [pattern for pattern in self._optimizer_map if re.fullmatch(pattern, key)]
        if len(matches) > 1:
            raise ValueError(
                f"Multiple optimizers assigned to variable {key}: patterns {matches} all match."
            )
        if matches:
            return self._optimizer_map[matches[0]]
        return self._default_optimizer

    def __setitem__(self, key, optimizer):
        if key in self._optimizer_map:
            raise ValueError(
                f"'{key}' already exists in the OptimizerMap with value "
                f"{self._optimizer_map[key]}. Please make sure to not use duplicated keys."
            )
        if not isinstance(key, str):
            raise ValueError(f"key must be a string. Received: {key}")
        if not isinstance(optimizer, Optimizer):
            raise ValueError(f"optimizer must be a Keras Optimizer instance. Received: {optimizer}")
        if isinstance(optimizer, LossScaleOptimizer):
            raise ValueError("optimizer cannot be LossScaleOptimizer.")
        if isinstance(optimizer, MultiOptimizer):
            raise ValueError("optimizer cannot be MultiOptimizer.")
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key):
        del self._optimizer_map[key]

    def __len__(self):
        return len(self._optimizer_map)

    def __iter__(self):
        return iter(self._optimizer_map)

    def __call__(self, variable):
        return self[str(getattr(variable, "path", ""))]

    def get_config(self):
        """Returns `{"default_optimizer": ..., "optimizer_map": {key: ...}}`, serialized."""
        return {
            "default_optimizer": _serialization.serialize_inner(self._default_optimizer),
            "optimizer_map": {
                k: _serialization.serialize_inner(v) for k, v in self._optimizer_map.items()
            },
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Creates the map from `get_config()`'s output."""
        default = _serialization.deserialize_inner(config["default_optimizer"], custom_objects)
        mapping = {
            k: _serialization.deserialize_inner(v, custom_objects)
            for k, v in (config.get("optimizer_map") or {}).items()
        }
        return cls(default, mapping)


class MultiOptimizer(Optimizer):
    """An optimizer that hands each variable to the optimizer an `OptimizerMap` (or a function
    of the variable) chooses for it.

    Each inner optimizer is built on its own variables and applies their gradients; the
    wrapper counts the steps. It has no learning rate of its own (reading or setting
    `learning_rate` is an `AttributeError`): use `optimizers` to reach the inner ones.

    Args:
        optimizer_map: An `OptimizerMap`, or a callable `variable -> Optimizer`.
        loss_scale_factor: Float or `None`; overrides the inner optimizers' own.
        name: String, the optimizer's name.

    Example:

    ```python
    optimizer = keras.optimizers.MultiOptimizer(keras.optimizers.OptimizerMap(
        keras.optimizers.SGD(), {"encoder/.*": keras.optimizers.Adam()}))
    model.compile(optimizer=optimizer, loss="mse")
    ```
    """

    def __init__(self, optimizer_map, loss_scale_factor=None, name=None):
        super().__init__(learning_rate=0.0, loss_scale_factor=loss_scale_factor, name=name)
        self._optimizer_map = optimizer_map
        self._inner_optimizers = []
        for optimizer in list(getattr(optimizer_map, "values", lambda: [])()) + [
                getattr(optimizer_map, "default_optimizer", None)]:
            if optimizer is not None and optimizer not in self._inner_optimizers:
                optimizer.loss_scale_factor = loss_scale_factor
                self._inner_optimizers.append(optimizer)

    @property
    def optimizers(self):
        """The inner optimizers, in the order their state is listed."""
        return self._inner_optimizers

    @property
    def loss_scale_factor(self):
        return getattr(self, "_loss_scale_factor", None)

    @loss_scale_factor.setter
    def loss_scale_factor(self, value):
        self._loss_scale_factor = value
        for optimizer in getattr(self, "_inner_optimizers", ()):
            optimizer.loss_scale_factor = value

    @property
    def learning_rate(self):
        raise AttributeError(
            "Learning rate cannot be accessed on a MultiOptimizer. Access the learning rate on "
            "the individual sub-optimizers instead."
        )

    @learning_rate.setter
    def learning_rate(self, value):
        raise AttributeError(
            "Learning rate cannot be set on a MultiOptimizer. Set the learning rate on the "
            "individual sub-optimizers instead."
        )

    def build(self, var_list):
        """Assigns each variable its optimizer and builds each optimizer on its variables."""
        if self.built:
            return
        var_list = list(var_list)
        self._owner = []
        per_optimizer = [[] for _ in self._inner_optimizers]
        for var in var_list:
            optimizer = self._optimizer_map(var)
            if not isinstance(optimizer, Optimizer):
                raise ValueError(
                    f"Optimizer for variable {getattr(var, 'path', tuple(var.shape))} is not an "
                    f"Optimizer instance. Received: {optimizer!r}"
                )
            if isinstance(optimizer, LossScaleOptimizer):
                raise ValueError("LossScaleOptimizer cannot be used inside an MultiOptimizer.")
            if isinstance(optimizer, MultiOptimizer):
                raise ValueError("MultiOptimizer cannot be used inside an MultiOptimizer.")
            if optimizer not in self._inner_optimizers:
                optimizer.loss_scale_factor = self.loss_scale_factor
                self._inner_optimizers.append(optimizer)
                per_optimizer.append([])
            k = self._inner_optimizers.index(optimizer)
            self._owner.append(k)
            per_optimizer[k].append(var)
        for optimizer, variables in zip(self._inner_optimizers, per_optimizer):
            if variables:
                optimizer._learn_keras_layouts(self._keras_layouts.values())
                optimizer.build(variables)
        super().build(var_list)

    def _learn_keras_layouts(self, pairs):
        pairs = list(pairs)
        super()._learn_keras_layouts(pairs)
        for optimizer in self._inner_optimizers:
            optimizer._learn_keras_layouts(pairs)

    @property
    def variables(self):
        """This optimizer's state, then each inner optimizer's (Keras's order)."""
        out = self._variables[:]
        for optimizer in self._inner_optimizers:
            out.extend(optimizer.variables)
        return out

    @torch.no_grad()
    def apply(self, grads, trainable_variables=None):
        """Splits the gradients by optimizer and applies each share; counts one step.

        Args:
            grads: One gradient (or `None`) per variable the optimizer was built with.
            trainable_variables: The variables, or `None` for the built list.
        """
        grads = list(grads)
        if not grads:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be "
                    "built on a list of variables. Call `optimizer.build(trainable_variables)` "
                    "first."
                )
            trainable_variables = self._trainable_variables
            if self._keras_layouts and len(grads) == len(trainable_variables):
                grads = self._positional_grads(grads)
        trainable_variables = list(trainable_variables)
        if not self.built:
            self.build(trainable_variables)
        if len(grads) != len(self._trainable_variables):
            raise ValueError(
                "Gradients must match trainable variables one-to-one. Received "
                f"{len(grads)} gradients and {len(self._trainable_variables)} variables."
            )
        shares = [([], []) for _ in self._inner_optimizers]
        for g, v in zip(grads, trainable_variables):
            k = self._owner[self._get_variable_index(v)]
            shares[k][0].append(g)
            shares[k][1].append(v)
        for optimizer, (sub_grads, sub_vars) in zip(self._inner_optimizers, shares):
            if any(g is not None for g in sub_grads):
                optimizer.apply(sub_grads, sub_vars)
        self._iterations.add_(1)
        self._host_iterations += 1

    @torch.no_grad()
    def step(self, closure=None):
        """Applies each built variable's `.grad` (PyTorch style); see `Optimizer.step`."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        if not self.built:
            raise ValueError(
                "`optimizer.step()` needs the variables to update: call "
                "`optimizer.build(list(model.parameters()))` first."
            )
        self.apply([v.grad for v in self._trainable_variables], self._trainable_variables)
        return loss

    def finalize_variable_values(self, var_list):
        """Each inner optimizer's `finalize_variable_values` on its own variables."""
        shares = [[] for _ in self._inner_optimizers]
        for v in var_list:
            shares[self._owner[self._get_variable_index(v)]].append(v)
        for optimizer, variables in zip(self._inner_optimizers, shares):
            if variables:
                optimizer.finalize_variable_values(variables)

    # ----------------------------------------------------------------- state and config

    def get_slot_state(self):
        """This optimizer's state, then inner optimizer `k`'s as `optimizers/<k>/<name>`."""
        state = super().get_slot_state()
        for k, optimizer in enumerate(self._inner_optimizers):
            state.update({f"optimizers/{k}/{n}": t for n, t in optimizer.get_slot_state().items()})
        return state

    def set_slot_state(self, state, strict=True):
        """Loads what `get_slot_state()` returned; see `Optimizer.set_slot_state`."""
        own = {n: t for n, t in state.items() if not n.startswith("optimizers/")}
        super().set_slot_state(own, strict=strict)
        for k, optimizer in enumerate(self._inner_optimizers):
            prefix = f"optimizers/{k}/"
            mine = {n[len(prefix):]: t for n, t in state.items() if n.startswith(prefix)}
            if optimizer.built:
                optimizer.set_slot_state(mine, strict=strict)

    def _keras_state(self):
        pairs = super()._keras_state()
        for optimizer in self._inner_optimizers:
            pairs.extend(optimizer._keras_state())
        return pairs

    def set_weights(self, weights):
        """Sets the state from a list of arrays in `variables` order."""
        if not self.built:
            raise ValueError(
                "You are calling `set_weights()` on an optimizer that has not yet been built. "
                "Please call `optimizer.build(trainable_variables)` to create the optimizer "
                "weights before calling `set_weights()`."
            )
        weights = list(weights)
        start = len(self._variables)
        super().set_weights(weights[:start])
        for optimizer in self._inner_optimizers:
            count = len(optimizer.variables)
            if count:
                optimizer.set_weights(weights[start:start + count])
                start += count

    def get_config(self):
        if isinstance(self._optimizer_map, OptimizerMap):
            mapping = _serialization.serialize_object(
                self._optimizer_map, "keras.optimizers", (OptimizerMap,))
        else:
            mapping = serialize_function(self._optimizer_map)
        return {"optimizer_map": mapping, "loss_scale_factor": self.loss_scale_factor,
                "name": self.name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        mapping = config["optimizer_map"]
        if isinstance(mapping, dict) and mapping.get("class_name") == "OptimizerMap":
            config["optimizer_map"] = OptimizerMap.from_config(mapping["config"], custom_objects)
        elif isinstance(mapping, dict):
            fn = get_registered_object(mapping.get("config"), custom_objects)
            if fn is None:
                raise TypeError(
                    f"Could not locate the optimizer selector function {mapping.get('config')!r}:"
                    " register it with `keras.saving.register_keras_serializable()` or pass it "
                    "in `custom_objects`."
                )
            config["optimizer_map"] = fn
        return cls(**config)
