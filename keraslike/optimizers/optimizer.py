"""The `Optimizer` base class: Keras 3's optimizer API over torch tensors.

Invariants (what the rest of the package may rely on):

- Model variables are torch tensors (`nn.Parameter`s); updates happen in place under
  `torch.no_grad()`, so the parameter objects never change and a module's `state_dict()` stays
  valid.
- Optimizer state lives in `variables`, in Keras's order: `iteration`, `learning_rate` (only when
  it is a float, not a schedule), then the slots `build()` creates. Slots sit on their model
  variable's device with its dtype and strides; the two scalars sit on the first variable's device.
- A step never syncs with the host: the step count and learning rate are device tensors, the
  per-step scalars (bias corrections, schedules) are computed on the device, and variables are
  updated with `torch._foreach_*` ops, one list per (device, dtype). Control flow that Keras
  decides from the step count (EMA warm start and overwrite, gradient accumulation) reads a
  host-side mirror of the count, which is exact because only this object advances it.

The class is spread over three files, one concern each: this one (public API and the hooks
subclasses override), `_update.py` (the update path) and `_state.py` (variables, saving, config).
"""

import functools
import warnings

import numpy as np
import torch

from keraslike.backend import config as backend_config
from keraslike.backend import naming
from keraslike.layers.variable import KerasLayoutView, as_buffer_variable, stored_delta, stored_weight
from keraslike.optimizers import _state, _update
from keraslike.optimizers.schedules.learning_rate_schedule import LearningRateSchedule


def _check_learning_rate(value):
    """Returns a constant learning rate as a float, or raises `ValueError` saying why not."""
    is_number = isinstance(value, (int, float, np.floating)) and not isinstance(value, bool)
    if not (is_number or (isinstance(value, torch.Tensor) and value.numel() == 1)):
        raise ValueError(
            "Argument `learning_rate` should be float, or an instance of LearningRateSchedule, "
            "or a callable (that takes in the current iteration value and returns the "
            f"corresponding learning rate value). Received instead: learning_rate={value!r}"
        )
    value = float(value)
    if value < 0:
        raise ValueError(f"Argument `learning_rate` must be >= 0. Received: learning_rate={value}")
    return value


class Optimizer(_update.UpdateMixin, _state.OptimizerStateMixin):
    """Base class for Keras optimizers, updating torch tensors in place.

    To write a custom optimizer the Keras way, subclass and override:

    - `build(variables)`: call `super().build(variables)`, then create slots with
      `add_optimizer_variables(variables, "name")` or `add_variable_from_reference(v, "name")`.
    - `update_step(gradient, variable, learning_rate)`: update one variable in place (use
      `self.assign`, `self.assign_add`, `self.assign_sub`).
    - `get_config()`: add your hyperparameters to `super().get_config()`.

    Built-in optimizers instead override `_update_group`, which updates a whole list of
    variables with `torch._foreach_*` ops.

    Args:
        learning_rate: A float, a `keras.optimizers.schedules.LearningRateSchedule`, or a
            callable that takes no arguments and returns the rate.
        weight_decay: Float. If set, weight decay is applied (decoupled: `v -= v * wd * lr`).
        clipnorm: Float. If set, each gradient is clipped to this norm.
        clipvalue: Float. If set, each gradient is clipped to `[-clipvalue, clipvalue]`.
        global_clipnorm: Float. If set, all gradients are scaled together so their global norm
            is at most this value.
        use_ema: Boolean. If `True`, an exponential moving average of the model variables is
            kept (and written into them every `ema_overwrite_frequency` steps, or by
            `finalize_variable_values()`).
        ema_momentum: Float in `[0, 1]`, the EMA momentum. Defaults to 0.99.
        ema_overwrite_frequency: Int >= 1 or `None`.
        loss_scale_factor: Float or `None`. Gradients are divided by it before use; multiply the
            loss by it with `scale_loss()`.
        gradient_accumulation_steps: Int >= 2 or `None`. If set, variables are updated every
            that many steps, with the mean of the gradients since the last update.
        name: String. Defaults to the snake-cased class name, made unique (`adam`, `adam_1`).

    Example:

    ```python
    model = keras.Sequential([keras.layers.Dense(1)])
    optimizer = keras.optimizers.SGD(learning_rate=0.1)
    optimizer.build(list(model.parameters()))
    loss = model(x).pow(2).mean()
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    ```
    """

    def __init__(
        self,
        learning_rate,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and will be ignored.")
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        if gradient_accumulation_steps and not (
            isinstance(gradient_accumulation_steps, int) and gradient_accumulation_steps >= 2
        ):
            raise ValueError(
                "`gradient_accumulation_steps` must be an integer >= 2. "
                f"Received: gradient_accumulation_steps={gradient_accumulation_steps}"
            )
        if use_ema:
            if ema_momentum > 1 or ema_momentum < 0:
                raise ValueError(
                    "`ema_momentum` must be in the range [0, 1]. "
                    f"Received: ema_momentum={ema_momentum}"
                )
            if ema_overwrite_frequency and (
                not isinstance(ema_overwrite_frequency, int) or ema_overwrite_frequency < 1
            ):
                raise ValueError(
                    "`ema_overwrite_frequency` must be an integer >= 1 or None. "
                    f"Received: ema_overwrite_frequency={ema_overwrite_frequency}"
                )
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                f"global_clipnorm={global_clipnorm}"
            )
        self.name = name if name is not None else naming.uniquify(
            naming.to_snake_case(self.__class__.__name__)
        )
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.global_clipnorm = global_clipnorm
        self.clipvalue = clipvalue
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.built = False

        self._init_state_tracking()
        self._trainable_variables = []
        self._overwritten_ids = set()
        self._trainable_variables_indices = {}
        self._all_indices = ()
        self._group_cache = {}
        self._exclude_ids, self._exclude_pattern = set(), None
        self._state_device = torch.device("cpu")
        self._iterations = self._track(torch.zeros((), dtype=torch.int64), "iteration")
        self._host_iterations = 0  # host mirror of `_iterations`, for control flow only
        if isinstance(learning_rate, LearningRateSchedule) or (
            callable(learning_rate) and not isinstance(learning_rate, torch.Tensor)
        ):
            self._learning_rate = learning_rate
        else:
            value = _check_learning_rate(learning_rate)
            # A Keras Variable: `optimizer.learning_rate.assign(0.1)` (a callback's idiom) works.
            lr = torch.tensor(value, dtype=getattr(torch, backend_config.floatx()))
            lr = as_buffer_variable(lr, "learning_rate", f"{self.name}/learning_rate")
            self._learning_rate = self._track(lr, "learning_rate")

    # ----------------------------------------------------------------- public state

    @property
    def iterations(self):
        """The number of steps applied, as a 0-d int64 tensor on the variables' device.

        With `gradient_accumulation_steps`, counts variable updates (calls // steps), as Keras.
        `int(optimizer.iterations)` reads it (a host sync: avoid inside a training step).
        """
        if self.gradient_accumulation_steps:
            return torch.div(self._iterations, self.gradient_accumulation_steps,
                             rounding_mode="floor")
        return self._iterations

    @property
    def learning_rate(self):
        """The current learning rate, as a 0-d float tensor (a schedule is evaluated now).

        Set it to a float (or a 0-d tensor) to change the rate of the next step, or to a
        `LearningRateSchedule` to replace the rate by a schedule.
        """
        return self._current_learning_rate()

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        if isinstance(learning_rate, LearningRateSchedule) or (
            callable(learning_rate) and not isinstance(learning_rate, torch.Tensor)
        ):
            if isinstance(self._learning_rate, torch.Tensor):
                self._untrack(self._learning_rate)
            self._learning_rate = learning_rate
            return
        if not isinstance(self._learning_rate, torch.Tensor):
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` object as its "
                "`learning_rate` constructor argument, hence its learning rate is not settable. "
                "If you need the learning rate to be settable, you should instantiate the "
                "optimizer with a float `learning_rate` argument."
            )
        if isinstance(learning_rate, torch.Tensor) and learning_rate.device != torch.device("cpu"):
            self._learning_rate.copy_(learning_rate.reshape(()))  # device to device: no sync
        else:
            self._learning_rate.fill_(_check_learning_rate(learning_rate))

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        build = cls.__dict__.get("build")
        if build is not None and not getattr(build, "_takes_stored_weights", False):
            cls.build = _on_stored_weights(build)

    # ----------------------------------------------------------------- build

    def build(self, variables):
        """Creates the optimizer's state for `variables` (the model's trainable tensors).

        Subclasses call `super().build(variables)` first, then add their slots. Building moves
        `iterations` and `learning_rate` to the device of the first variable.

        Args:
            variables: A list of `torch.nn.Parameter`s (or tensors), in a fixed order: `apply`
                without `trainable_variables` and `step()` refer to them by position.
                `model.trainable_weights` is accepted as it is: the optimizer is built on the
                stored weights behind its Keras-layout views (a subclass's `build` receives
                the stored weights too) and shows their slots in Keras's layouts (`variables`).
        """
        variables = _stored_weights(self, variables)
        for i, v in enumerate(variables):
            if not isinstance(v, torch.Tensor):
                raise TypeError(
                    "Optimizer variables must be torch tensors (e.g. `nn.Parameter`s). "
                    f"Received at position {i}: {type(v).__name__}"
                )
        # Variables marked `overwrite_with_gradient` (float8 scales and amax histories) get no
        # slots (`None` in the slot lists) and no update rule, as in Keras: a gradient given
        # for one replaces its value. The update path never sees them (`_all_indices`).
        self._overwritten_ids = {
            id(v) for v in variables if getattr(v, "overwrite_with_gradient", False)
        }
        self._trainable_variables = variables
        self._trainable_variables_indices = {id(v): i for i, v in enumerate(variables)}
        self._all_indices = tuple(
            i for i, v in enumerate(variables) if id(v) not in self._overwritten_ids)
        self._reference_names = self._make_reference_names(variables)
        if variables:
            self._state_device = variables[0].device
            for t in (self._iterations, self._learning_rate):
                if isinstance(t, torch.Tensor):
                    t.data = t.data.to(self._state_device)
        if self.use_ema:
            self._model_variables_moving_average = self.add_optimizer_variables(
                variables, "average"
            )
        if self.gradient_accumulation_steps:
            self._accumulated_gradients = self.add_optimizer_variables(
                variables, "gradient_accumulator"
            )
        self._group_cache = {}
        self.built = True

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Excludes variables from weight decay; call before the optimizer is built.

        Args:
            var_list: A list of variables (tensors) to exclude.
            var_names: A list of regex strings; a variable whose name (the last part of its
                `path` attribute, e.g. `kernel`, else the optimizer's name for it) contains a
                match is excluded.
        """
        if self.built:
            raise ValueError(
                "`exclude_from_weight_decay()` can only be configured before the optimizer "
                "is built."
            )
        import re

        self._exclude_ids = {id(stored_weight(v)) for v in (var_list or [])}
        self._exclude_pattern = re.compile("|".join(set(var_names))) if var_names else None

    # ----------------------------------------------------------------- applying gradients

    def apply_gradients(self, grads_and_vars):
        """Applies `(gradient, variable)` pairs; builds the optimizer on first use.

        Args:
            grads_and_vars: An iterable of `(gradient, variable)` pairs. A `None` gradient
                leaves its variable untouched.

        Returns:
            The `iterations` tensor (as Keras, for `tf.keras` compatibility).

        Example:

        ```python
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
        ```
        """
        pairs = list(grads_and_vars)
        if not pairs:
            return self._iterations
        grads, variables = zip(*pairs)
        self.apply(grads, variables)
        return self._iterations

    def apply(self, grads, trainable_variables=None):
        """Updates variables from their gradients, in place; builds on first use.

        Args:
            grads: A list of gradient tensors (or `None`s).
            trainable_variables: The variables they belong to; `None` means the list the
                optimizer was built with, one gradient per variable in that order, each in the
                layout `optimizer.variables` shows its slots in (Keras's, when it was built on
                `model.trainable_weights`).

        Example:

        ```python
        optimizer.apply(grads, model.trainable_weights)
        ```
        """
        grads = list(grads)
        if not grads:
            return
        if trainable_variables is not None and not self.built:
            trainable_variables = list(trainable_variables)
            self.build(trainable_variables)
        if trainable_variables is None and self._keras_layouts and (
                len(grads) == len(self._trainable_variables)):
            grads = self._positional_grads(grads)
        if self._overwritten_ids:
            if trainable_variables is None and len(grads) == len(self._trainable_variables):
                trainable_variables = self._trainable_variables
            if trainable_variables is not None:
                overwrote = any(g is not None and id(v) in self._overwritten_ids
                                for g, v in zip(grads, trainable_variables))
                grads, trainable_variables = self._overwrite_with_gradients(
                    grads, list(trainable_variables))
                if not grads or (overwrote and all(g is None for g in grads)):
                    return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be "
                    "built on a list of variables. "
                    "Call `optimizer.build(trainable_variables)` first."
                )
            if len(grads) != len(self._trainable_variables):
                raise ValueError(
                    "When passing `grads` as a list of gradient tensors, the gradients must match "
                    f"the optimizer's variables one-to-one. Received a list of {len(grads)} "
                    f"gradients, but the optimizer is tracking {len(self._trainable_variables)} "
                    "trainable variables."
                )
            indices = range(len(grads))
        else:
            trainable_variables = list(trainable_variables)
            if not self.built:
                self.build(trainable_variables)
            lookup = self._trainable_variables_indices
            indices = []
            for k, v in enumerate(trainable_variables):
                i = lookup.get(id(v))
                if i is None and type(v) is KerasLayoutView:
                    # A weight of `model.trainable_weights` shown in Keras's layout: its stored
                    # weight is updated with the gradient converted to the stored layout.
                    i = lookup.get(id(v._stored))
                    if i is not None and id(v._stored) not in self._keras_layouts:
                        self._learn_keras_layouts([(v._stored, v._weight_layout)])
                    if grads[k] is not None:
                        grads[k] = stored_delta(v, grads[k])
                if i is None:
                    raise ValueError(
                        f"Unknown variable of shape {tuple(v.shape)}. This optimizer can only be "
                        "called for the variables it was originally built with. When working "
                        "with a new set of variables, you should recreate a new optimizer instance."
                    )
                indices.append(i)
        present = [(i, g) for i, g in zip(indices, grads) if g is not None]
        if not present:
            raise ValueError("No gradients provided for any variable.")
        if len(present) < len(grads):
            missing = [self._reference_names[i] for i, g in zip(indices, grads) if g is None]
            warnings.warn(
                f"Gradients do not exist for variables {missing} when minimizing the loss. "
                "If using `model.compile()`, did you forget to provide a `loss` argument?"
            )
        self._apply_indexed(tuple(i for i, _ in present), [g for _, g in present])

    def _positional_grads(self, grads):
        """Gradients given without variables, in the layouts `variables` shows: a Keras-layout
        gradient (of a weight whose Keras layout the optimizer knows) converted to the stored
        layout. A gradient in the stored shape where that differs is taken as it is."""
        converted = []
        for i, g in enumerate(grads):
            layout = None if g is None else self._slot_layout_of(i)
            if layout is not None and tuple(g.shape) == layout.keras_shape(
                    self._trainable_variables[i].shape):
                g = layout.to_torch(g)
            converted.append(g)
        return converted

    @torch.no_grad()
    def _overwrite_with_gradients(self, grads, variables):
        """Writes the gradients of `overwrite_with_gradient` variables into them; returns the
        other (gradient, variable) pairs."""
        kept_grads, kept_vars = [], []
        for g, v in zip(grads, variables):
            if id(v) in self._overwritten_ids:
                if g is not None:
                    v.copy_(g)
            else:
                kept_grads.append(g)
                kept_vars.append(v)
        return kept_grads, kept_vars

    @torch.no_grad()
    def step(self, closure=None):
        """Applies each built variable's `.grad` (PyTorch style); `None` grads are skipped.

        Call after `loss.backward()`; clear the gradients with `zero_grad()` afterwards.
        A step where no variable has a gradient does nothing (not even count a step).

        Args:
            closure: Optional callable that re-evaluates the model and returns the loss.

        Returns:
            The closure's loss, or `None`.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        if not self.built:
            raise ValueError(
                "`optimizer.step()` needs the variables to update: call "
                "`optimizer.build(list(model.parameters()))` first."
            )
        indices, grads = [], []
        for i in self._all_indices:
            v = self._trainable_variables[i]
            if v.grad is not None:
                indices.append(i)
                grads.append(v.grad)
        if grads:
            self._apply_indexed(tuple(indices), grads)
        return loss

    def zero_grad(self, set_to_none=True):
        """Clears the `.grad` of every built variable (sets it to `None` by default)."""
        for v in self._trainable_variables:
            if v.grad is not None:
                if set_to_none:
                    v.grad = None
                else:
                    v.grad.detach_().zero_()

    def scale_loss(self, loss):
        """Multiplies the loss by `loss_scale_factor` when one is set."""
        if self.loss_scale_factor is not None:
            return loss * self.loss_scale_factor
        return loss

    @torch.no_grad()
    def finalize_variable_values(self, var_list):
        """Writes the EMA of the variables into them, when `use_ema=True`.

        Args:
            var_list: The model variables, in the order the optimizer was built with.
        """
        if not self.use_ema:
            return
        var_list = [stored_weight(v) for v in var_list]
        if len(var_list) != len(self._model_variables_moving_average):
            raise ValueError(
                f"The length of model variables ({len(var_list)}) to override does not match the "
                "length of model variables stored in the optimizer "
                f"({len(self._model_variables_moving_average)}). Please check if the optimizer "
                "was called on your model."
            )
        for v, average in zip(var_list, self._model_variables_moving_average):
            if average is not None:  # None: an `overwrite_with_gradient` variable
                v.copy_(average)

    # ----------------------------------------------------------------- extension points

    def _prepare_step(self, lr):
        """Returns the 0-d device tensors one step needs, computed once for all groups.

        Subclasses extend it (bias corrections and the like). `lr` is already in
        `_compute_dtype`.
        """
        return {"lr": lr}

    def _local_step(self):
        """`iterations + 1` as a float tensor in `_compute_dtype` (Keras's `local_step`)."""
        return (self.iterations + 1).to(self._compute_dtype)

    def _update_group(self, group, grads, scalars):
        """Updates one (device, dtype) group in place. The default calls `update_step`."""
        for g, v in zip(grads, group.variables):
            self.update_step(g, v, scalars["lr"])

    def update_step(self, gradient, variable, learning_rate):
        """Updates one variable from its gradient, in place (override in custom optimizers)."""
        raise NotImplementedError(
            f"Optimizer {self.__class__.__name__} must override `update_step()` "
            "(or `_update_group()`)."
        )

    def assign(self, variable, value):
        """Sets `variable` to `value`, in place."""
        variable.copy_(value)

    def assign_add(self, variable, value):
        """Adds `value` to `variable`, in place."""
        variable.add_(value)

    def assign_sub(self, variable, value):
        """Subtracts `value` from `variable`, in place."""
        variable.sub_(value)

    def _get_variable_index(self, variable):
        return self._trainable_variables_indices[id(stored_weight(variable))]


def _on_stored_weights(build):
    """A subclass's `build(variables)` given the stored weights behind Keras-layout views, so
    its slots take the stored shapes (`optimizer.build(model.trainable_weights)`)."""

    @functools.wraps(build)
    def build_on_stored_weights(self, variables, *args, **kwargs):
        return build(self, _stored_weights(self, variables), *args, **kwargs)

    build_on_stored_weights._takes_stored_weights = True
    return build_on_stored_weights


def _stored_weights(optimizer, variables):
    """`variables` with each `KerasLayoutView` replaced by its stored weight, whose Keras layout
    `optimizer` learns (for `variables` / `set_weights`)."""
    variables = list(variables)
    views = [v for v in variables if type(v) is KerasLayoutView]
    if views:
        optimizer._learn_keras_layouts([(v._stored, v._weight_layout) for v in views])
    return [stored_weight(v) for v in variables]
