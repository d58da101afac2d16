"""Layer: the base class of every layer, a `torch.nn.Module` that also records graph nodes.

Called on torch tensors, a layer is an ordinary module: `__call__` goes straight to
`nn.Module.__call__` and `forward` runs `call`. Called on KerasTensors, it builds itself from the
input shapes if needed, records a graph node and returns KerasTensors (see `keraslike.graph`).
Weights live under torch's names and layouts; `get_weights`/`set_weights` and Keras-named
attributes speak Keras's layouts through each weight's declared `Layout`.
"""

import inspect
from contextlib import nullcontext as _nullcontext

import numpy as np
import torch
from torch import nn

from keraslike import dtype_policies
from keraslike.backend import config
from keraslike.backend.naming import to_snake_case, uniquify
from keraslike.backend.traceback_utils import filtered, is_traceback_filtering_enabled
from keraslike.graph import nest
from keraslike.graph.keras_tensor import KerasTensor
from keraslike.graph import hook_registry
from keraslike.graph.call_context import state as _context
from keraslike.graph.node import Node
from keraslike.graph.operation import any_symbolic
from keraslike.graph.shape_inference import (
    dtype_name,
    infer_output_spec,
    real_default_device,
    torch_dtype,
)
from keraslike.layers.input_spec import assert_input_compatibility
from keraslike.layers.variable import Variable, as_buffer_variable
from keraslike.layers.weight_layout import IDENTITY


class WeightSpec:
    """One weight of a layer: its Keras name, the attribute holding it, its layout and extras.

    `frozen` marks a weight in Keras's trainable list that training must leave alone (a LoRA
    base kernel): it stays in its place in `weights` but is out of `trainable_weights`.
    """

    __slots__ = ("name", "attr", "layout", "regularizer", "constraint", "trainable", "frozen")

    def __init__(self, name, attr, layout, regularizer=None, constraint=None, trainable=True):
        self.name = name
        self.attr = attr
        self.layout = layout
        self.regularizer = regularizer
        self.constraint = constraint
        self.trainable = trainable
        self.frozen = False


_SIGNATURES = {}
_BUILD_PARAMS = {}


def _call_signature(cls):
    """(takes `training`, takes `mask`, positional parameter names) of `cls.call`, cached."""
    return _call_info(cls)[:3]


def _call_info(cls):
    """(takes `training`, takes `mask`, positional parameter names, default of `training`) of
    `cls.call`, cached per class. The default is `None` unless `call` declares another."""
    found = _SIGNATURES.get(cls)
    if found is None:
        params = inspect.signature(cls.call).parameters
        positional = [
            name
            for name, p in params.items()
            if name != "self" and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        training = params.get("training")
        default = None
        if training is not None and training.default is not inspect.Parameter.empty:
            default = training.default
        found = _SIGNATURES[cls] = ("training" in params, "mask" in params, positional, default)
    return found


def _module_spec(path, param):
    """The spec of a parameter that a plain torch module (or a direct `nn.Parameter`) holds."""
    return WeightSpec(path, path, IDENTITY, trainable=param.requires_grad)


def _shape_of(structure):
    return nest.map_structure(lambda x: tuple(x.shape) if hasattr(x, "shape") else x, structure)


def _policy_name(dtype):
    if dtype is None:
        from keraslike.mixed_precision import default_policy_name

        return default_policy_name()
    if isinstance(dtype, torch.dtype):
        return dtype_name(dtype)
    policy = dtype_policies.get(dtype)  # a name, a serialized dict or a DTypePolicy
    return getattr(policy, "default_policy", policy).name


class Layer(nn.Module):
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
        if not autocast and self._dtype_policy_name.startswith("mixed_"):
            # Under a mixed policy fit/evaluate/predict autocast the whole model; opting one
            # layer out is not implemented, and ignoring the request would change its numbers.
            raise NotImplementedError(
                f'Layer "{self.name}": `autocast=False` under the mixed precision policy '
                f'"{self._dtype_policy_name}" is not implemented in keraslike.'
            )
        self.autocast = autocast
        self._inbound_nodes = []
        self._weight_specs = []
        self._losses = []  # added during the most recent forward that added any (see add_loss)
        self._loss_owner = None  # the call context's list those losses belong to
        self._build_shapes = None
        self.input_spec = None
        self.supports_masking = getattr(self, "supports_masking", False)
        from keraslike import regularizers

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
            name[0] == "_" or not isinstance(value, list)
        ):
            # Fast path for plain configuration values (nn.Module.__setattr__ is slow).
            d = self.__dict__
            if "_parameters" in d and not (
                name in d["_parameters"] or name in d["_buffers"] or name in d["_modules"]
            ):
                object.__setattr__(self, name, value)
                return
        if (
            isinstance(value, list)
            and not name.startswith("_")
            and value
            and all(isinstance(v, nn.Module) for v in value)
        ):
            value = nn.ModuleList(value)  # track sublayers kept in a list, as Keras does
        elif isinstance(value, torch.Tensor) and "_weight_specs" in self.__dict__:
            self._rename_weight(value, name)
        super().__setattr__(name, value)

    def _rename_weight(self, value, name):
        for spec in self._weight_specs:
            if spec.attr == name:
                return
            if spec.layout is IDENTITY and self._find_tensor(spec.attr) is value:
                table = self._parameters if spec.attr in self._parameters else self._buffers
                table[name] = table.pop(spec.attr)
                spec.attr = name
                if spec.name.startswith("variable"):
                    spec.name = name
                    value.__dict__["_keras_name"] = name
                    value.__dict__["_keras_path"] = f"{self.name}/{name}"
                return

    def _apply(self, fn, *args, **kwargs):
        # `.to()`/`.cuda()` replace buffers by plain tensors: give weights their Variable API back.
        result = super()._apply(fn, *args, **kwargs)
        for spec in self._weight_specs:
            buffer = self._buffers.get(spec.attr)
            if buffer is not None and type(buffer) is torch.Tensor:
                self._buffers[spec.attr] = as_buffer_variable(
                    buffer, spec.name, f"{self.name}/{spec.name}"
                )
        return result

    def _find_tensor(self, attr):
        if attr in self._parameters:
            return self._parameters[attr]
        tensor = self._buffers.get(attr)
        if tensor is None and "." in attr:
            # A parameter of a torch submodule (`seq.0.weight`): see `_weight_entries`.
            path, _, leaf = attr.rpartition(".")
            owner = self.get_submodule(path)
            tensor = owner._parameters.get(leaf)
            if tensor is None:
                tensor = owner._buffers.get(leaf)
        return tensor

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
                return spec.layout.to_keras(self._find_tensor(spec.attr))
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def add_weight(
        self,
        shape=None,
        initializer=None,
        dtype=None,
        trainable=True,
        autocast=True,
        regularizer=None,
        constraint=None,
        aggregation="none",
        overwrite_with_gradient=False,
        name=None,
        *,
        torch_name=None,
        layout=IDENTITY,
    ):
        """Creates a weight, registers it on the layer and returns it.

        Trainable weights become `nn.Parameter`s; non-trainable ones become buffers (so they
        appear in `state_dict()` and move with `.to()`, as BatchNorm's running statistics do).

        Args:
            shape: The weight's shape in Keras's layout.
            initializer: Initializer name, instance or callable; `"glorot_uniform"` by default for
                float weights, `"zeros"` otherwise.
            dtype: The weight's dtype; defaults to the layer's dtype.
            trainable: Whether training updates it.
            regularizer: Optional penalty on the weight, collected by `layer.losses`.
            constraint: Optional projection applied after each optimizer update.
            name: The weight's Keras name (`"kernel"`, `"bias"`, ...).
            torch_name: The attribute name it is stored under, when it differs from `name`
                (Dense stores its `kernel` as `weight`, like `nn.Linear`).
            layout: How the torch-layout storage relates to the Keras layout.

        Returns:
            The parameter (or buffer), in torch layout.
        """
        from keraslike import constraints, initializers, regularizers

        shape = tuple(int(d) for d in (shape or ()))
        dtype = torch_dtype(dtype or self.dtype)
        if initializer is None:
            initializer = "glorot_uniform" if dtype.is_floating_point else "zeros"
        init = initializers.get(initializer)
        # A sublayer first built while its parent's output shape is inferred on meta tensors
        # still gets real weights, on the device that was the default outside the inference.
        device = real_default_device()
        with torch.no_grad(), torch.device(device) if device is not None else _nullcontext():
            value = torch.as_tensor(init(shape, dtype=dtype_name(dtype)), dtype=dtype)
            value = layout.to_torch(value).contiguous()
        if name is None:
            name = "variable" if not self._weight_specs else f"variable_{len(self._weight_specs)}"
        attr = torch_name or name
        path = f"{self.name}/{name}"
        if trainable:
            variable = Variable(value, requires_grad=self._trainable)
            variable.__dict__["_keras_name"] = name
            self.register_parameter(attr, variable)
        else:
            self.register_buffer(attr, as_buffer_variable(value, name, path))
        tensor = self._find_tensor(attr)
        tensor.path = path
        self._weight_specs.append(
            WeightSpec(
                name,
                attr,
                layout,
                regularizers.get(regularizer),
                constraints.get(constraint),
                trainable,
            )
        )
        return tensor

    def _sublayers(self):
        """Direct sublayers, in the order Keras lists their weights."""
        found = []
        stack = list(self._modules.values())[::-1]
        while stack:
            module = stack.pop()
            if isinstance(module, Layer):
                found.append(module)
            elif module is not None:
                stack.extend(list(module._modules.values())[::-1])
        return found

    def _own_weights(self, trainable):
        return [
            self._find_tensor(s.attr) for s in self._weight_specs if s.trainable == trainable
        ]

    def _weight_entries(self):
        """(layer, spec) for every weight, in Keras's order, each tensor once.

        Derived from the module tree on each call (no second registry): a layer's `add_weight`
        weights (trainable, then non-trainable), then any other `nn.Parameter` it holds, then its
        children in assignment order: sublayers recursively, and the parameters of plain torch
        submodules (`nn.Sequential`, `nn.Linear`, ...), described by a spec named by their
        dotted path (`seq.0.weight`), trainable while `requires_grad` is set.
        """
        entries, seen = [], set()

        def add(layer, spec, tensor):
            if tensor is not None and id(tensor) not in seen:
                seen.add(id(tensor))
                entries.append((layer, spec))

        def children(layer, module, prefix):
            for name, child in module._modules.items():
                if isinstance(child, Layer):
                    visit(child)
                elif child is not None:
                    torch_params(layer, child, f"{prefix}{name}.")

        def torch_params(layer, module, prefix):
            for attr, param in module._parameters.items():
                if param is not None:
                    add(layer, _module_spec(prefix + attr, param), param)
            children(layer, module, prefix)

        def visit(layer):
            specs = layer._weight_specs
            for spec in [s for s in specs if s.trainable] + [s for s in specs if not s.trainable]:
                add(layer, spec, layer._find_tensor(spec.attr))
            known = {s.attr for s in specs}
            for attr, param in layer._parameters.items():
                if param is not None and attr not in known:
                    add(layer, _module_spec(attr, param), param)
            if layer.__dict__.get("_plan") is not None:  # a functional model: graph order
                for sub in layer._sublayers():
                    visit(sub)
            children(layer, layer, "")

        visit(self)
        return entries

    @property
    def weights(self):
        """All weights (parameters and buffers, torch layout), in Keras's order."""
        return [layer._find_tensor(spec.attr) for layer, spec in self._weight_entries()]

    @property
    def trainable_weights(self):
        """Weights updated by training (empty when the layer is frozen)."""
        if not self.trainable:
            return []
        result = []
        for layer, spec in self._weight_entries():
            tensor = layer._find_tensor(spec.attr)
            if spec.trainable and layer.trainable and not spec.frozen and tensor.requires_grad:
                result.append(tensor)
        return result

    @property
    def non_trainable_weights(self):
        """Weights not updated by training."""
        trainable_ids = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable_ids]

    @property
    def variables(self):
        """Same as `weights`."""
        return self.weights

    @property
    def trainable_variables(self):
        """Same as `trainable_weights`."""
        return self.trainable_weights

    @property
    def non_trainable_variables(self):
        """Same as `non_trainable_weights`."""
        return self.non_trainable_weights

    @property
    def trainable(self):
        """Whether training updates this layer's weights; setting it (un)freezes sublayers too."""
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        value = bool(value)
        declared = set()
        for module in self.modules():
            if isinstance(module, Layer):
                module._trainable = value
                for spec in module._weight_specs:
                    if spec.trainable:
                        tensor = module._find_tensor(spec.attr)
                        tensor.requires_grad_(value and not spec.frozen)
                        declared.add(id(tensor))
        for param in self.parameters():  # parameters of plain torch submodules
            if id(param) not in declared:
                param.requires_grad_(value)

    def get_weights(self):
        """Returns the weights as numpy arrays in Keras's layouts and order."""
        return [
            spec.layout.to_keras(layer._find_tensor(spec.attr)).detach().cpu().numpy()
            for layer, spec in self._weight_entries()
        ]

    def set_weights(self, weights):
        """Sets the weights from numpy arrays in Keras's layouts and order (as `get_weights`).

        Raises:
            ValueError: When the number of arrays or a shape does not match.
        """
        entries = self._weight_entries()
        if len(weights) != len(entries):
            raise ValueError(
                f'Layer "{self.name}" expected {len(entries)} weights, but received '
                f"{len(weights)} weights. Expected: {[f'{l.name}/{s.name}' for l, s in entries]}"
            )
        with torch.no_grad():
            for (layer, spec), value in zip(entries, weights):
                target = layer._find_tensor(spec.attr)
                value = torch.as_tensor(np.asarray(value))
                expected = spec.layout.keras_shape(target.shape)
                if tuple(value.shape) != expected:
                    raise ValueError(
                        f'Layer "{layer.name}" weight "{spec.name}" has shape {expected}, '
                        f"but the provided weight has shape {tuple(value.shape)}."
                    )
                target.copy_(spec.layout.to_torch(value.to(target.dtype)))

    def count_params(self):
        """Returns the number of scalars in the layer's weights.

        Raises:
            ValueError: When the layer is not built yet.
        """
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on layer '{self.name}', but the layer isn't "
                "built. You can build it manually via: `layer.build(input_shape)`."
            )
        return int(sum(w.numel() for w in self.weights))

    # ------------------------------------------------------------------ losses

    @property
    def activity_regularizer(self):
        """Optional penalty on the layer's outputs, added to `losses` on each forward."""
        return self._activity_regularizer

    @activity_regularizer.setter
    def activity_regularizer(self, value):
        from keraslike import regularizers

        self._activity_regularizer = regularizers.get(value)
        hook_registry.bump()  # execution plans re-derive this layer's call path

    def add_loss(self, loss):
        """Adds a loss tensor (for example an activity penalty) to `layer.losses`.

        Called inside `call`, the loss belongs to the current forward: `losses` after the call
        holds exactly the losses added during it (a new forward replaces them, as Keras clears
        them when a new outermost call starts), and the trainer adds them to the training loss.
        """
        self._uses_add_loss = True
        collected = _context.losses
        if self._loss_owner is not collected:
            # The first loss of this layer in this forward: drop the previous forward's.
            self._losses.clear()
            self._loss_owner = collected
        self._losses.append(loss)
        if collected is not None:
            collected.append(loss)

    def _collected_losses(self):
        """The losses added (`add_loss`, activity regularizers) during this layer's most recent
        call, sublayers included, without walking the module tree (what `fit` adds per step)."""
        collected = self.__dict__.get("_last_collection")
        return list(collected) if collected is not None else self._walk_added_losses(None)

    def _walk_added_losses(self, collection):
        result = []
        for layer in self.modules():
            if isinstance(layer, Layer) and layer._losses:
                owner = layer._loss_owner
                if collection is None or owner is collection or owner is None:
                    result.extend(layer._losses)
        return result

    def _regularization_losses(self):
        """The weight regularization penalties of this layer and its sublayers."""
        result = []
        for layer in self.modules():
            if not isinstance(layer, Layer):
                continue
            for spec in layer._weight_specs:
                if spec.regularizer is not None:
                    tensor = layer._find_tensor(spec.attr)
                    result.append(spec.regularizer(spec.layout.to_keras(tensor)))
        return result

    @property
    def losses(self):
        """Penalties of this layer and its sublayers: the losses added during the most recent
        forward (`add_loss`, activity regularizers), then the weight regularization penalties."""
        collection = self.__dict__.get("_last_collection")
        return self._walk_added_losses(collection) + self._regularization_losses()

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

    @property
    def quantization_mode(self):
        """`"int8"`, `"int4"`, `"float8"`... when the layer is quantized, else `None`."""
        return self.dtype_policy.quantization_mode

    # ------------------------------------------------------------------ building

    def build(self, input_shape):
        """Creates the layer's weights for inputs of `input_shape` (batch dimension included)."""
        self.built = True

    def _maybe_build(self, args, kwargs):
        if self.built:
            return
        cls = type(self)
        if cls not in _BUILD_PARAMS:
            _BUILD_PARAMS[cls] = list(inspect.signature(self.build).parameters.values())
        params = _BUILD_PARAMS[cls]
        if len(params) <= 1:
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

    # ------------------------------------------------------------------ calling

    def call(self, *args, **kwargs):
        """The layer's computation on torch tensors. Subclasses override it."""
        raise NotImplementedError(f"Layer {type(self).__name__} does not define `call()`.")

    def __call__(self, *args, **kwargs):
        if not kwargs and len(args) == 1 and type(args[0]) is torch.Tensor:
            # The common eager call, `layer(tensor)`: nothing to filter or convert.
            if self.input_spec is not None:
                assert_input_compatibility(self.input_spec, args[0], self.name)
            takes_training, _, _, default = _call_info(type(self))
            if default is None:
                training = _context.training
                if training is None or not takes_training:
                    return nn.Module.__call__(self, args[0])
                return nn.Module.__call__(self, args[0], training=training)
        try:  # the slow paths: an error leaves without keraslike's frames (free until one)
            if any_symbolic(args, kwargs):
                return self._symbolic_call(args, kwargs)
            return self._eager_call(args, kwargs)
        except Exception as error:
            if is_traceback_filtering_enabled():
                raise filtered(error)  # noqa: B904  (the same exception, a shorter traceback)
            raise

    def _eager_call(self, args, kwargs):
        # Keras's call context: an explicit `training` wins, else the enclosing call's value,
        # else a non-None default of `call`; that value is also the context of the sublayers.
        takes_training, takes_mask, _, default = _call_info(type(self))
        outer = _context.training
        training = kwargs.pop("training", None)
        if training is None:
            training = outer if outer is not None else default
        if takes_training and training is not None:
            kwargs["training"] = training
        if not takes_mask and "mask" in kwargs:
            del kwargs["mask"]
        if args and isinstance(args[0], np.ndarray):
            args = (self._to_tensor(args[0]),) + args[1:]
        if self.input_spec is not None and args and isinstance(args[0], torch.Tensor):
            assert_input_compatibility(self.input_spec, args[0], self.name)
        if training is outer:
            return nn.Module.__call__(self, *args, **kwargs)
        _context.training = training
        try:
            return nn.Module.__call__(self, *args, **kwargs)
        finally:
            _context.training = outer

    def _to_tensor(self, array):
        tensor = torch.as_tensor(array)
        if tensor.is_floating_point():
            tensor = tensor.to(torch_dtype(self.compute_dtype))
        return tensor

    def forward(self, *args, **kwargs):
        """Runs `call` (building the layer first if needed): the `nn.Module` entry point."""
        if not self.built:
            self._maybe_build(args, kwargs)
            hook_registry.bump()  # plans that call this layer may now call it directly
        collected = _context.losses
        if collected is not None:  # inside a model's or a layer's call
            self._last_collection = collected
            outputs = self.call(*args, **kwargs)
            if self._activity_regularizer is not None:
                self._add_activity_losses(outputs)
            return outputs
        # The outermost call: it opens the list of this forward's added losses.
        _context.losses = collected = []
        self._last_collection = collected
        try:
            outputs = self.call(*args, **kwargs)
            if self._activity_regularizer is not None:
                self._add_activity_losses(outputs)
        finally:
            _context.losses = None
        return outputs

    def _add_activity_losses(self, outputs):
        for output in nest.flatten(outputs):
            if isinstance(output, torch.Tensor):
                batch = output.shape[0] if output.ndim else 1
                self.add_loss(self._activity_regularizer(output) / batch)

    @property
    def runtime_callable(self):
        """What a model's execution plan calls for this layer's nodes.

        The layer's `call` directly when nothing else must happen around it (no torch hooks, no
        activity regularizer, no `add_loss`), else `nn.Module.__call__` (hooks, then `forward`).
        """
        if self._needs_module_call():
            return nn.Module.__call__.__get__(self)
        return self.call

    @property
    def module_callable(self):
        """`nn.Module.__call__` of the layer: what plans call while torch's global hooks are set."""
        return nn.Module.__call__.__get__(self)

    def _needs_module_call(self):
        # Read when a plan (re)builds its steps; each of these changes bumps hook_registry.
        return bool(
            self._forward_hooks
            or self._forward_pre_hooks
            or self._backward_hooks
            or getattr(self, "_backward_pre_hooks", None)
            or self._activity_regularizer is not None
            or not self.built
        )

    def register_forward_hook(self, *args, **kwargs):
        handle = super().register_forward_hook(*args, **kwargs)
        hook_registry.bump()
        return handle

    def register_forward_pre_hook(self, *args, **kwargs):
        handle = super().register_forward_pre_hook(*args, **kwargs)
        hook_registry.bump()
        return handle

    def register_full_backward_hook(self, *args, **kwargs):
        handle = super().register_full_backward_hook(*args, **kwargs)
        hook_registry.bump()
        return handle

    def register_full_backward_pre_hook(self, *args, **kwargs):
        handle = super().register_full_backward_pre_hook(*args, **kwargs)
        hook_registry.bump()
        return handle

    def register_backward_hook(self, *args, **kwargs):
        handle = super().register_backward_hook(*args, **kwargs)
        hook_registry.bump()
        return handle

    def _symbolic_call(self, args, kwargs):
        takes_training, takes_mask, positional = _call_signature(type(self))
        first = args[0] if args else None
        assert_input_compatibility(
            self.input_spec, nest.flatten(first) if isinstance(first, (list, tuple)) else first, self.name
        )
        self._maybe_build(args, kwargs)
        previous_mask = kwargs.get("mask")
        if previous_mask is None and first is not None:
            masks = [getattr(x, "_keras_mask", None) for x in nest.flatten(first)]
            if any(m is not None for m in masks):
                previous_mask = nest.pack_like(first, masks)
                if takes_mask:
                    kwargs = dict(kwargs, mask=previous_mask)
        if not takes_mask and "mask" in kwargs:
            kwargs = {k: v for k, v in kwargs.items() if k != "mask"}
        if not takes_training:
            kwargs.pop("training", None)
        outputs = self.compute_output_spec(*args, **kwargs)
        Node(self, args, kwargs, outputs)
        if first is not None:
            self._set_output_masks(first, previous_mask, outputs)
        return outputs

    def _set_output_masks(self, inputs, previous_mask, outputs):
        overrides = type(self).compute_mask is not Layer.compute_mask
        if not overrides and (previous_mask is None or not self.supports_masking):
            return
        mask = self.compute_mask(inputs, previous_mask)
        if mask is None:
            return
        out_list = nest.flatten(outputs)
        mask_list = nest.flatten(mask) if isinstance(mask, (list, tuple)) else [mask] * len(out_list)
        for out, m in zip(out_list, mask_list):
            if isinstance(out, KerasTensor):
                out._keras_mask = m

    def compute_mask(self, inputs, previous_mask):
        """Returns the output mask: the input mask when `supports_masking`, else `None`."""
        if not self.supports_masking:
            return None
        return previous_mask

    def compute_output_shape(self, *args, **kwargs):
        """Returns the output shape for an input shape. Layers may override it."""
        raise NotImplementedError

    def compute_output_spec(self, *args, **kwargs):
        """Returns KerasTensors describing the outputs of a call on these symbolic inputs.

        Uses `compute_output_shape` when the layer defines it for a single input, and otherwise
        runs `call` on meta tensors (so layers written with plain torch ops need no shape code).
        """
        tensors = [x for x in nest.flatten((args, kwargs)) if isinstance(x, KerasTensor)]
        overrides = type(self).compute_output_shape is not Layer.compute_output_shape
        if overrides and len(args) == 1 and len(tensors) == len(nest.flatten(args[0])):
            shape = self.compute_output_shape(_shape_of(args[0]))
            return _spec_from_shape(shape, self.compute_dtype)
        return infer_output_spec(
            self.__call__, args, kwargs, module=self, description=f'layer "{self.name}"'
        )

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
        from keraslike import regularizers

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
        """Creates a layer from the output of `get_config`."""
        return cls(**config)

    def extra_repr(self):
        return f"name={self.name!r}"


def _spec_from_shape(shape, dtype):
    if isinstance(shape, dict):
        return {k: _spec_from_shape(v, dtype) for k, v in shape.items()}
    shape = tuple(shape) if not isinstance(shape, list) else shape
    if all(d is None or isinstance(d, int) for d in shape):
        return KerasTensor(tuple(shape), dtype=dtype)
    return type(shape)(_spec_from_shape(s, dtype) for s in shape)
