"""Layer: the base class of every layer, a `torch.nn.Module` and a graph `Operation`.

The class is assembled from one file per responsibility: `layer_weights` (weights from the
module tree), `layer_losses` (added losses, regularizers), `layer_calling` (eager calls under
the call context, the symbolic `Operation` protocol, plan callables); this file holds
construction, attributes, dtypes, building, graph accessors and config.

Called on torch tensors, a layer is an ordinary module: `__call__` goes straight to
`nn.Module.__call__` and `forward` runs `call`. Called on KerasTensors, it builds itself from the
input shapes if needed, records a graph node and returns KerasTensors (see `keraslike.graph`).
Weights live under torch's names and layouts; `get_weights`/`set_weights` and Keras-named
attributes speak Keras's layouts through each weight's declared `Layout`.
"""

import functools
import inspect

import torch
from torch import nn

from keraslike import dtype_policies
from keraslike.backend import config
from keraslike.backend.errors import DeserializationError
from keraslike.backend.device import current_path, name_scope
from keraslike.backend.naming import to_snake_case, uniquify
from keraslike.backend.remat import get_current_remat_mode
from keraslike.backend.traceback_utils import filter_traceback
from keraslike.graph import hook_registry
from keraslike.graph.operation import Operation
from keraslike.graph.shape_inference import dtype_name, torch_dtype
from keraslike.layers.layer_calling import (  # noqa: F401 - re-exported
    LayerCalling,
    _call_info,
    _prefill_call_info,
    _call_signature,
    _shape_of,
)
from keraslike.layers.layer_losses import LayerLosses
from keraslike.layers.layer_repr import layer_extra_repr
from keraslike.layers.layer_weights import LayerWeights, WeightSpec  # noqa: F401 - re-exported
from keraslike import regularizers
from keraslike.layers.mixed_call import note_mixed_layer
from keraslike.layers.tracked_containers import TrackedDict, TrackedList, note_tracked
from keraslike.layers.variable import BufferVariable, keras_layout_view, set_buffer_attribute
from keraslike.mixed_precision import default_policy_name


_BUILD_PARAMS = {}


def _build_in_name_scope(build):
    """`build` run inside the layer's name scope (Keras's build wrapper): the weights it creates,
    its sublayers' included, get paths under the layer's (`block/dense/kernel`)."""

    # Its argument names, bound by hand below: `Signature.bind` cannot be traced by dynamo (a
    # layer first built inside `torch.compile(layer, fullgraph=True)`).
    named = [
        p.name for p in list(inspect.signature(build).parameters.values())[1:]
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]

    @functools.wraps(build)
    def build_in_scope(self, *args, **kwargs):
        with self._open_name_scope():
            self._path = current_path()
            result = build(self, *args, **kwargs)
        if self._records_build_arguments and not getattr(self, "_keras_build_at_init", False):
            # Keras records every build call's arguments (`layer.build(shape)` called directly
            # too) for `get_build_config`; an overriding `build` calling `super().build` is
            # recorded last, with its own arguments. (Keras builds `_keras_build_at_init`
            # layers in their constructor: their `build` is never called, nothing recorded.)
            bound = dict(zip(named, args))
            bound.update(kwargs)
            self._build_shapes = (
                {"input_shape": next(iter(bound.values()))} if len(bound) == 1
                else {"shapes_dict": dict(bound)}
            )
        return result

    build_in_scope._keraslike_in_name_scope = True
    return build_in_scope


def _policy_name(dtype):
    if dtype is None:
        return default_policy_name()
    if isinstance(dtype, torch.dtype):
        return dtype_name(dtype)
    policy = dtype_policies.get(dtype)  # a name, a serialized dict or a DTypePolicy
    return getattr(policy, "default_policy", policy).name


def _conversion_dtype(fn):
    """The floating dtype a `Module._apply` function converts floating tensors to (`.double()`,
    `.half()`, `.to(torch.bfloat16)`), or None when it keeps dtypes (a device move)."""
    try:
        as_float32 = fn(torch.empty(0, dtype=torch.float32))
        as_float64 = fn(torch.empty(0, dtype=torch.float64))
    except Exception:  # an `_apply` function that only takes parameters
        return None
    if not (isinstance(as_float32, torch.Tensor) and isinstance(as_float64, torch.Tensor)):
        return None
    if as_float32.dtype is as_float64.dtype and as_float32.dtype.is_floating_point:
        return as_float32.dtype
    return None


class Layer(LayerWeights, LayerLosses, LayerCalling, nn.Module, Operation):
    """The base class of all layers: a `torch.nn.Module` with Keras's layer API.

    Subclasses create weights in `build(input_shape)` with `add_weight`, compute in
    `call(inputs, training=None, mask=None)` (declaring `training`/`mask` only if they use them),
    and return their constructor arguments from `get_config()`.

    Args:
        trainable: Whether the layer's weights are updated by training.
        dtype: The dtype of the weights and computations (`"float32"` by default).
        name: The layer's name; defaults to a unique snake-case name of the class.
        activity_regularizer: Optional penalty on the layer's output.
        input_shape: Shape of the input without the batch dimension (Sequential's first layer).

    Example:

    ```python
    class Linear(keras.layers.Layer):
        def __init__(self, units=32, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units), name="w")
            self.b = self.add_weight(shape=(self.units,), initializer="zeros", name="b")

        def call(self, inputs):
            return inputs @ self.w + self.b
    ```
    """

    # Facts about the class, declared by the layer itself (read with `getattr(cls, ...)`):
    # the `training` value Keras records in this layer's nodes when the call gives none (Keras's
    # `call(..., training=False)` default on Dropout-like and recurrent layers); `None`: none.
    _keras_call_training_default = None
    # Keras's `_convert_input_args`: whether a call casts floating inputs to the layer's compute
    # dtype (when `autocast` is on). Graph models pass their inputs on as they are.
    _convert_input_args = True
    # Whether `build` calls record their arguments for `get_build_config` (models keep theirs).
    _records_build_arguments = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # A mistake in a constructor's arguments (`Dense(3, activation="relux")`) reads like one
        # in a call: the user's frames and the message, without keraslike's internals.
        init = cls.__dict__.get("__init__")
        if init is not None and not getattr(init, "_keraslike_filters_traceback", False):
            cls.__init__ = filter_traceback(init)
        build = cls.__dict__.get("build")
        if build is not None and not getattr(build, "_keraslike_in_name_scope", False):
            cls.build = _build_in_name_scope(build)

    def __init__(
        self,
        *,
        activity_regularizer=None,
        trainable=True,
        dtype=None,
        autocast=True,
        name=None,
        **kwargs,
    ):
        super().__init__()
        # Cached before any call: a first call traced by torch.compile that filled the cache
        # would fail its own guard on it and compile twice.
        _prefill_call_info(type(self))
        input_shape = kwargs.pop("input_shape", None)
        batch_input_shape = kwargs.pop("batch_input_shape", None)
        batch_size = kwargs.pop("batch_size", None)
        input_dim = kwargs.pop("input_dim", None)
        kwargs.pop("input_length", None)  # Keras 2 (legacy .h5 configs): shape info only
        if kwargs:
            raise ValueError(
                f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}"
            )
        if not isinstance(trainable, bool):
            raise ValueError(
                "Expected `trainable` to be a boolean. "
                f"Received: trainable={trainable} (of type {type(trainable)})"
            )
        if name is not None and (not isinstance(name, str) or "/" in name):
            raise ValueError(f"Argument `name` must be a string without '/'. Received: name={name!r}")
        self.name = name or uniquify(to_snake_case(type(self).__name__))
        self.built = False
        self.training = False  # Keras's `layer(x)` is inference unless training is asked for
        self._trainable = bool(trainable)
        self._dtype_policy_name = _policy_name(dtype)
        self._autocast_enabled = bool(autocast)
        self._refresh_autocast(bump=False)
        self._remat_mode = get_current_remat_mode()  # fixed at creation, as Keras
        self._inbound_nodes = []
        self._weight_specs = []
        self._losses = []  # added during the most recent forward that added any (see add_loss)
        self._loss_owner = None  # the call context's list those losses belong to
        self._build_shapes = None
        self.input_spec = None
        self.supports_masking = getattr(self, "supports_masking", False)
        self._activity_regularizer = regularizers.get(activity_regularizer)
        if batch_input_shape is not None:
            self._batch_input_shape = tuple(batch_input_shape)
        elif input_shape is not None:
            self._batch_input_shape = (batch_size,) + tuple(input_shape)
        elif input_dim is not None:
            self._batch_input_shape = (batch_size, input_dim)
        else:
            self._batch_input_shape = None

    # ------------------------------------------------------------------ attributes and weights

    def __setattr__(self, name, value):
        if not isinstance(value, (torch.Tensor, nn.Module)) and (
            name[0] == "_" or not isinstance(value, (list, dict))
        ):
            # Fast path for plain configuration values (nn.Module.__setattr__ is slow).
            d = self.__dict__
            if "_parameters" in d and not (
                name in d["_parameters"] or name in d["_buffers"] or name in d["_modules"]
            ):
                object.__setattr__(self, name, value)
                return
        current = self.__dict__.get(name)
        if isinstance(current, (TrackedList, TrackedDict)):
            if value is current:  # `self.blocks += [...]` assigns the same list back
                return
            del self.__dict__[name]  # replaced: forget its modules
            self.__dict__["_modules"].pop(name, None)
        if isinstance(value, (list, dict)) and not name.startswith("_"):
            items = value.values() if isinstance(value, dict) else value
            if isinstance(value, list) and value and all(isinstance(v, nn.Module) for v in value):
                note_tracked(self, value)
                value = nn.ModuleList(value)  # track sublayers kept in a list, as Keras does
            elif not value or any(isinstance(v, nn.Module) for v in items):
                # Sublayers added later (`self.blocks = []`, then `append`) are tracked too.
                if isinstance(self.__dict__["_modules"].get(name), nn.ModuleList):
                    del self.__dict__["_modules"][name]
                tracked = TrackedDict if isinstance(value, dict) else TrackedList
                object.__setattr__(self, name, tracked(value, self, name))
                return
        elif isinstance(value, torch.Tensor) and "_weight_specs" in self.__dict__:
            self._rename_weight(value, name)
        if isinstance(value, BufferVariable):
            set_buffer_attribute(self, name, value)
            return
        if isinstance(value, nn.Module) and "_modules" in self.__dict__:
            note_tracked(self, [value])
        super().__setattr__(name, value)

    def __getattr__(self, name):
        # Same lookups as nn.Module.__getattr__ (the path `self.weight` takes), plus Keras names.
        d = self.__dict__
        if name in d["_parameters"]:
            return d["_parameters"][name]
        if name in d["_buffers"]:
            return d["_buffers"][name]
        if name in d["_modules"]:
            return d["_modules"][name]
        for spec in d.get("_weight_specs", ()):
            if spec.name == name:
                return keras_layout_view(self._find_tensor(spec.attr), spec.layout)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    # ------------------------------------------------------------------ dtype

    @property
    def dtype(self):
        """The dtype of the layer's weights, as a string."""
        return dtype_policies.get(self._dtype_policy_name).variable_dtype

    @property
    def compute_dtype(self):
        """The dtype of the layer's computations, as a string."""
        return dtype_policies.get(self._dtype_policy_name).compute_dtype

    @property
    def variable_dtype(self):
        """Same as `dtype`."""
        return self.dtype

    @property
    def dtype_policy(self):
        """The layer's `DTypePolicy` (`"float32"`, `"mixed_float16"`, `"int8_from_float32"`...)."""
        return dtype_policies.get(self._dtype_policy_name)

    @dtype_policy.setter
    def dtype_policy(self, value):
        self._dtype_policy_name = _policy_name(value)
        self._refresh_autocast()

    @property
    def autocast(self):
        """Whether floating inputs are cast to `compute_dtype` when the layer is called (Keras's
        input autocast: a `dtype="float16"` layer takes float32 tensors)."""
        return self._autocast_enabled

    @autocast.setter
    def autocast(self, value):
        self._autocast_enabled = bool(value)
        self._refresh_autocast()

    def _refresh_autocast(self, bump=True):
        # Read on every call and by execution plans: `_autocast_to`, the torch dtype floating
        # inputs are cast to (Keras's input autocast), or None; `_mixed_compute`, the compute
        # dtype of a mixed policy (its weights stay float32: calls run under `torch.autocast`
        # and cast their outputs, see `mixed_call.py`), or None. A torch dtype conversion of
        # the module (`.double()`, `.half()`, `.to(dtype)`) sets the dtype it computes in from
        # then on. Plans rebuild their steps on a bump.
        policy_name = self._dtype_policy_name
        converted = self.__dict__.get("_converted_dtype")
        compute = converted or torch_dtype(dtype_policies.get(policy_name).compute_dtype)
        self._compute_torch_dtype = compute
        policy = dtype_policies.get(policy_name)
        mixed = converted is None and policy_name.startswith("mixed_")
        self._mixed_compute = compute if mixed and compute.is_floating_point else None
        # `autocast=False` under a mixed policy: Keras neither casts the inputs nor the
        # variables, so the layer computes in float32 (`mixed_call.uncast_call`), except for
        # layers that turn their autocast off to cast their outputs themselves.
        self._uncast_mixed = (
            self._mixed_compute is not None
            and not self._autocast_enabled
            and not self._casts_own_mixed_outputs
        )
        # A plain float policy (`"float32"`, ...; not mixed, not quantized): inside a mixed
        # model it computes in its own dtype, autocast off.
        self._float_policy = compute.is_floating_point and (converted is not None or (
            policy.quantization_mode is None and policy.compute_dtype == policy.variable_dtype))
        if self._mixed_compute is not None:
            note_mixed_layer()
        if self._uncast_mixed:
            self._mixed_compute = None
        target = None
        if self._autocast_enabled and self._convert_input_args and compute.is_floating_point:
            target = compute
        self._autocast_to = target
        if bump:
            hook_registry.bump()

    def _apply(self, fn, *args, **kwargs):
        result = super()._apply(fn, *args, **kwargs)
        dtype = _conversion_dtype(fn)
        if dtype is not None:
            self._converted_dtype = dtype
            self._refresh_autocast()
        return result

    @property
    def quantization_mode(self):
        """`"int8"`, `"int4"`, `"float8"`... when the layer is quantized, else `None`."""
        return self.dtype_policy.quantization_mode

    # ------------------------------------------------------------------ building

    # Keras's variable paths: the scope path where the layer first opened its name scope (its
    # first build or call), under which every later scope of the layer re-opens.
    _parent_path = None
    _path = None

    @property
    def path(self):
        """The layer's path (`"block/dense"`): its name under the scopes it was built in; `None`
        before it is built."""
        return self._path

    def _open_name_scope(self):
        if self._parent_path is None:
            self._parent_path = current_path()
        return name_scope(self.name, caller=self)

    def build(self, input_shape):
        """Creates the layer's weights for inputs of `input_shape` (batch dimension included)."""
        self.built = True

    def _maybe_build(self, args, kwargs):
        if self.built:
            return
        cls = type(self)
        if cls not in _BUILD_PARAMS:
            # Named parameters only, as Keras counts them: `build(self)` and `build(self, *args)`
            # are called with no shapes.
            _BUILD_PARAMS[cls] = [
                p for p in inspect.signature(self.build).parameters.values()
                if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
            ]
        params = _BUILD_PARAMS[cls]
        if len(params) == 1:
            first = args[0] if args else next(iter(kwargs.values()), None)
            shapes = _shape_of(first)
            self._build_shapes = {"input_shape": shapes}
            self.build(shapes)
        else:
            bound = inspect.signature(self.call).bind_partial(*args, **kwargs).arguments
            shapes = {}
            for p in params:
                source = p.name[: -len("_shape")] if p.name.endswith("_shape") else p.name
                if source in bound:
                    shapes[p.name] = _shape_of(bound[source])
            self._build_shapes = {"shapes_dict": shapes}
            self.build(**shapes)
        self.built = True

    def get_build_config(self):
        """Returns the input shape(s) the layer was built with, as Keras saves them."""
        if self._build_shapes is None:
            return None
        return dict(self._build_shapes)

    def build_from_config(self, config):
        """Builds the layer from the output of `get_build_config`."""
        if not config or self.built:
            return
        if "input_shape" in config:
            self.build(config["input_shape"])
        elif "shapes_dict" in config:
            self.build(**config["shapes_dict"])
        self._build_shapes = dict(config)
        self.built = True

    # ------------------------------------------------------------------ graph accessors

    def _first_node(self, what):
        if not self._inbound_nodes:
            raise AttributeError(
                f"Layer '{self.name}' has never been called and thus has no defined {what}."
            )
        return self._inbound_nodes[0]

    @property
    def input(self):
        """The symbolic input(s) of the layer's first call."""
        tensors = self._first_node("input").input_tensors
        return tensors[0] if len(tensors) == 1 else list(tensors)

    @property
    def output(self):
        """The symbolic output(s) of the layer's first call."""
        tensors = self._first_node("output").output_tensors
        return tensors[0] if len(tensors) == 1 else list(tensors)

    # ------------------------------------------------------------------ config

    def get_config(self):
        """Returns the layer's constructor arguments as a JSON-safe dict (Keras 3's keys)."""
        config = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": dtype_policies.serialize(self.dtype_policy),
        }
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config):
        """Creates a layer from the output of `get_config`.

        Raises:
            TypeError: When the constructor refuses the config, as Keras raises it (a
                `DeserializationError`, also the constructor's ValueError).
        """
        try:
            return cls(**config)
        except ValueError as error:
            if isinstance(error, TypeError):
                raise
            raise DeserializationError(
                f"Error when deserializing class '{cls.__name__}' using config={config}.\n\n"
                f"Exception encountered: {error}"
            ) from error

    def extra_repr(self):
        """The layer's defining arguments and weight shapes, for `print(layer)`."""
        return layer_extra_repr(self)


Layer.build = _build_in_name_scope(Layer.build)  # subclasses' `build`s are wrapped as defined
