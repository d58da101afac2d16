"""The weights half of `Layer`: creation (`add_weight`), the Keras views of the module tree
(`weights`, `trainable_weights`, `variables`, `get_weights`/`set_weights`, `count_params`) and
freezing.

There is no second registry: every list is derived, on each call, from the module tree that
`named_parameters()` walks. Weights made by `add_weight` carry a `WeightSpec` (Keras name,
layout, regularizer, constraint); any other `nn.Parameter` a layer or one of its plain torch
submodules holds is described on the fly by a spec named by its dotted path. `variables` adds,
as Keras's, the states of the `SeedGenerator`s each layer holds (found on its attributes).
"""

from contextlib import nullcontext as _nullcontext

import numpy as np
import torch
from torch import nn

from keraslike.backend.device import current_path, name_scope
from keraslike.backend.naming import creation_index, uniquify
from keraslike.graph.shape_inference import dtype_name, real_default_device, torch_dtype
from keraslike.layers.tracked_containers import tracked_order
from keraslike.layers.variable import (
    KerasLayoutView, Variable, as_buffer_variable, keras_layout_view,
)
from keraslike.layers.weight_layout import IDENTITY
from keraslike.ops.core import array_to_tensor, tensor_to_numpy
from keraslike.random.seed_generator import SeedGenerator
from keraslike import constraints, initializers, regularizers


class WeightSpec:
    """One weight of a layer: its Keras name, the attribute holding it, its layout and extras.

    `frozen` marks a weight in Keras's trainable list that training must leave alone (a LoRA
    base kernel): it stays in its place in `weights` but is out of `trainable_weights`.
    `overwritten` marks a trainable weight the layer updates itself (Keras's
    `overwrite_with_gradient`, float8 scales): in `trainable_weights`, as in Keras, but without
    gradients (`requires_grad` stays off) and skipped by the optimizers.
    """

    __slots__ = ("name", "attr", "layout", "regularizer", "constraint", "trainable", "frozen",
                 "overwritten", "path", "creation_index")

    def __init__(self, name, attr, layout, regularizer=None, constraint=None, trainable=True):
        self.name = name
        self.attr = attr
        self.layout = layout
        self.regularizer = regularizer
        self.constraint = constraint
        self.trainable = trainable
        self.frozen = False
        self.overwritten = False
        self.path = None  # Keras's variable path (`block/dense/kernel`), set by `add_weight`
        self.creation_index = None  # set by `add_weight`: orders it among `keras.Variable`s


def _in_tracked_order(layer):
    """`(name, module)` of a layer's children, those in lists and dicts included, in the order
    the layer tracked them (Keras's order of sublayers and their weights: `self.a, self.b = [],
    []`, then alternate appends, lists a[0], b[0], a[1], ...)."""
    items = []
    for name, child in layer._modules.items():
        if type(child) in (nn.ModuleList, nn.ModuleDict):
            items.extend((f"{name}.{key}", sub) for key, sub in child._modules.items() if sub is not None)
        elif child is not None:
            items.append((name, child))
    ordered = tracked_order(layer, [module for _, module in items])
    if all(a is b for a, (_, b) in zip(ordered, items)):
        return items
    names = {id(module): name for name, module in items}
    return [(names[id(module)], module) for module in ordered]


def _module_spec(path, param):
    """The spec of a parameter that a plain torch module (or a direct `nn.Parameter`) holds."""
    return WeightSpec(path, path, IDENTITY, trainable=param.requires_grad)


_SEED_STATE_SPEC = WeightSpec("seed_generator_state", None, IDENTITY, trainable=False)


def _seed_generators(layer):
    """The `SeedGenerator`s `layer` holds itself (not its sublayers'), in the order it tracked
    them: as attributes (child modules, in lists and dicts too), then those kept out of the
    module tree as plain attributes (`random.seed_generator.hold_unsaved`: an unseeded noise
    layer's, which draws nothing from it and so has no state to save)."""
    found = [m for _, m in _in_tracked_order(layer) if isinstance(m, SeedGenerator)]
    found.extend(v for v in layer.__dict__.values() if isinstance(v, SeedGenerator))
    return found


class LayerWeights:
    """Mixin of `Layer`: weights (see the module docstring). Expects `nn.Module` state."""

    def _rename_weight(self, value, name):
        for spec in self._weight_specs:
            if spec.attr == name:
                return
            if spec.layout is IDENTITY and self._find_tensor(spec.attr) is value:
                table = self._parameters if spec.attr in self._parameters else self._buffers
                table[name] = table.pop(spec.attr)
                spec.attr = name  # the torch name only: Keras keeps the weight's own name
                return

    def _apply(self, fn, *args, **kwargs):
        # `.to()`/`.cuda()` replace buffers by plain tensors: give weights their Variable API back.
        result = super()._apply(fn, *args, **kwargs)
        for spec in self._weight_specs:
            buffer = self._buffers.get(spec.attr)
            if buffer is not None and type(buffer) is torch.Tensor:
                self._buffers[spec.attr] = as_buffer_variable(
                    buffer, spec.name, spec.path or f"{self.name}/{spec.name}"
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
            overwrite_with_gradient: Whether the layer updates this (trainable) weight itself:
                it has no gradient and optimizers leave it alone (float8 scales).
            name: The weight's Keras name (`"kernel"`, `"bias"`, ...).
            torch_name: The attribute name it is stored under, when it differs from `name`
                (Dense stores its `kernel` as `weight`, like `nn.Linear`).
            layout: How the torch-layout storage relates to the Keras layout.

        Returns:
            The parameter (or buffer), in torch layout.
        """
        shape = _weight_shape(self, name, shape)
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
            # Keras names an unnamed weight as any unnamed `keras.Variable`: `variable`,
            # `variable_1`, ... counted per session (its attribute names the torch parameter).
            name = uniquify("variable")
        attr = torch_name or name
        # Keras's path: the scopes the weight is created in, the layer's own included.
        with name_scope(self.name, caller=self):
            path = f"{current_path()}/{name}"
        if trainable:
            variable = Variable(value, requires_grad=self._trainable)
            variable.__dict__["_keras_name"] = name
            self.register_parameter(attr, variable)
        else:
            self.register_buffer(attr, as_buffer_variable(value, name, path))
        tensor = self._find_tensor(attr)
        tensor.path = path
        spec = WeightSpec(
            name,
            attr,
            layout,
            regularizers.get(regularizer),
            constraints.get(constraint),
            trainable,
        )
        spec.path = path
        spec.creation_index = creation_index()
        if overwrite_with_gradient and trainable:
            spec.overwritten = True
            tensor.requires_grad_(False)
            tensor.overwrite_with_gradient = True  # the optimizers' marker, as Keras's
        self._weight_specs.append(spec)
        return tensor

    def _sublayers(self):
        """Direct sublayers, in the order Keras lists their weights."""
        found = []
        stack = list(self._modules.values())[::-1]
        while stack:
            module = stack.pop()
            if isinstance(module, LayerWeights):
                found.append(module)
            elif module is not None:
                stack.extend(list(module._modules.values())[::-1])
        return found

    def _own_weights(self, trainable):
        return [
            self._find_tensor(s.attr) for s in self._weight_specs if s.trainable == trainable
        ]

    def _own_weight_specs(self, keras_tracked_only=False):
        """Specs of the layer's own weights (not its sublayers'), in Keras's order.

        `keras.Variable`s assigned to the layer take their place in creation order among its
        `add_weight` weights, trainable ones then the others, as Keras tracks them; any other
        `nn.Parameter` it holds comes last (`keras_tracked_only` leaves those out: Keras's
        files hold only what Keras tracks).
        """
        specs = self._weight_specs
        known = {s.attr for s in specs}
        direct = [(attr, param) for attr, param in self._parameters.items()
                  if param is not None and attr not in known]
        variables = [(a, p) for a, p in direct if hasattr(p, "_creation_index")]
        result = []
        for trainable in (True, False):
            pending = [(a, p) for a, p in variables if p._trainable == trainable]
            for spec in [s for s in specs if s.trainable == trainable]:
                while pending and spec.creation_index is not None and (
                    pending[0][1]._creation_index < spec.creation_index
                ):
                    result.append(_module_spec(*pending.pop(0)))
                result.append(spec)
            result.extend(_module_spec(a, p) for a, p in pending)
        if not keras_tracked_only:
            result.extend(_module_spec(a, p) for a, p in direct if not hasattr(p, "_creation_index"))
        return result

    def _weight_entries(self):
        """(layer, spec) for every weight, in Keras's order, each tensor once.

        Derived from the module tree on each call (no second registry): a layer's `add_weight`
        weights (trainable, then non-trainable), then any other `nn.Parameter` it holds, then its
        children in assignment order: sublayers recursively, and the parameters of plain torch
        submodules (`nn.Sequential`, `nn.Linear`, ...), described by a spec named by their
        dotted path (`seq.0.weight`), trainable while `requires_grad` is set.
        """
        return [(layer, spec) for layer, spec, _ in self._entries()]

    def _entries(self, seeds=False):
        """`(layer, spec, stored tensor)` for every weight, as `_weight_entries`; `seeds` adds,
        after each layer's own weights (before its sublayers'), the states of the
        `SeedGenerator`s it holds (Keras's `variables`)."""
        entries, seen = [], set()

        def add(layer, spec, tensor):
            if tensor is not None and id(tensor) not in seen:
                seen.add(id(tensor))
                entries.append((layer, spec, tensor))

        def children(layer, module, prefix):
            items = module._modules.items()
            if module is layer and "_tracked_order" in layer.__dict__:
                items = _in_tracked_order(layer)
            for name, child in items:
                if isinstance(child, LayerWeights):
                    visit(child)
                elif child is not None:
                    torch_params(layer, child, f"{prefix}{name}.")

        def torch_params(layer, module, prefix):
            for attr, param in module._parameters.items():
                if param is not None:
                    add(layer, _module_spec(prefix + attr, param), param)
            children(layer, module, prefix)

        def visit(layer):
            for spec in layer._own_weight_specs():
                add(layer, spec, layer._find_tensor(spec.attr))
            if seeds:
                for generator in _seed_generators(layer):
                    add(layer, _SEED_STATE_SPEC, generator.state)
            if layer.__dict__.get("_plan") is not None:  # a functional model: graph order
                for sub in layer._sublayers():
                    visit(sub)
            children(layer, layer, "")

        visit(self)
        return entries

    def _stored_weight_pairs(self, trainable=None, seeds=False):
        """`(spec, stored tensor)` for each weight, in Keras's order; `trainable=True` keeps the
        ones training updates (none when the layer is frozen), `False` the others; `seeds` adds
        the seed states (see `_entries`)."""
        pairs = []
        unfrozen = trainable is not None and self.trainable
        for layer, spec, tensor in self._entries(seeds):
            if trainable is not None:
                trained = unfrozen and spec.trainable and layer.trainable and (
                    not spec.frozen and (tensor.requires_grad or spec.overwritten))
                if trained != trainable:
                    continue
            pairs.append((spec, tensor))
        return pairs

    def _stored_weights(self):
        """`weights` as the module stores them (torch's layouts): what keraslike's own code
        (trainers, optimizers, saving, summaries) works on."""
        return [tensor for _, tensor in self._stored_weight_pairs()]

    def _stored_trainable_weights(self):
        """`trainable_weights` as stored (torch's layouts); see `_stored_weights`."""
        return [tensor for _, tensor in self._stored_weight_pairs(True)]

    def _stored_non_trainable_weights(self):
        """`non_trainable_weights` as stored (torch's layouts); see `_stored_weights`."""
        return [tensor for _, tensor in self._stored_weight_pairs(False)]

    @property
    def weights(self):
        """All weights (trainable, then non-trainable, then sublayers'), in Keras's layouts.

        A weight whose Keras layout is its stored layout (a bias, BatchNormalization's
        statistics, a plain torch submodule's parameter) is the stored parameter or buffer
        itself. Any other (a Dense or Conv kernel, an LSTM kernel or bias) is a
        `KerasLayoutView`: Keras's shape and values, Keras's Variable API (`assign` writes
        through, `v.value.grad` is the gradient in Keras's layout), accepted by keraslike's
        optimizers. These objects are built on each access (a kept one would go stale after
        `module.to(device)` or `load_state_dict`): take the list again after such a change.
        `model.parameters()` / `state_dict()` give the tensors in torch's layouts.
        """
        return [_keras_weight(t, spec.layout) for spec, t in self._stored_weight_pairs()]

    @property
    def trainable_weights(self):
        """Weights updated by training (empty when the layer is frozen), as `weights` shows
        them (Keras's layouts, built on each access)."""
        return [_keras_weight(t, spec.layout) for spec, t in self._stored_weight_pairs(True)]

    @property
    def non_trainable_weights(self):
        """Weights not updated by training, as `weights` shows them (Keras's layouts)."""
        return [_keras_weight(t, spec.layout) for spec, t in self._stored_weight_pairs(False)]

    @property
    def variables(self):
        """All the layer's state: `weights` plus the states of the `SeedGenerator`s the layer
        and its sublayers hold (`seed_generator_state`, after each layer's own weights), as
        Keras's `variables`."""
        return [_keras_weight(t, spec.layout) for spec, t in self._stored_weight_pairs(seeds=True)]

    @property
    def trainable_variables(self):
        """Same as `trainable_weights` (seed states are never trainable)."""
        return self.trainable_weights

    @property
    def non_trainable_variables(self):
        """`non_trainable_weights` plus the seed states (see `variables`); every variable when
        the layer is frozen."""
        return [
            _keras_weight(t, spec.layout)
            for spec, t in self._stored_weight_pairs(False, seeds=True)
        ]

    @property
    def trainable(self):
        """Whether training updates this layer's weights; setting it (un)freezes sublayers too."""
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        value = bool(value)
        declared = set()
        for module in self.modules():
            if isinstance(module, LayerWeights):
                module._trainable = value
                for spec in module._weight_specs:
                    if spec.trainable:
                        tensor = module._find_tensor(spec.attr)
                        tensor.requires_grad_(value and not spec.frozen and not spec.overwritten)
                        declared.add(id(tensor))
        for param in self.parameters():  # parameters of plain torch submodules
            if id(param) not in declared:
                param.requires_grad_(value)

    def get_weights(self):
        """Returns copies of the weights as numpy arrays in Keras's layouts and order."""
        # Copies, as Keras's: a CPU tensor's `.numpy()` shares its memory, so later training
        # would silently change arrays the caller kept (e.g. a snapshot to restore).
        return [
            tensor_to_numpy(spec.layout.to_keras(_whole(layer._find_tensor(spec.attr)))).copy()
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
                value = array_to_tensor(value)
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
        return int(sum(w.numel() for w in self._stored_weights()))


def _keras_weight(tensor, layout):
    """What the weight lists show for a stored weight: its `KerasLayoutView`, or the stored
    tensor itself where the layouts agree or no view can be made (an FSDP2 `DTensor`, or under
    `torch.compile`), so that what optimizers receive always leads to the stored weight."""
    if getattr(tensor, "full_tensor", None) is not None:  # sharded: no layout ops on it here
        return tensor
    view = keras_layout_view(tensor, layout)
    return view if type(view) is KerasLayoutView else tensor


def _whole(tensor):
    """The whole value of a weight: a sharded one (an FSDP2 `DTensor`) is gathered from every
    process (a collective, so every process calls `get_weights`, as with any sharded model)."""
    full_tensor = getattr(tensor, "full_tensor", None)
    return full_tensor() if full_tensor is not None else tensor


def _weight_shape(layer, name, shape):
    """`add_weight`'s `shape` as a tuple of ints, or Keras's ValueError naming the layer and the
    weight (a negative, undefined or non-integer dimension)."""
    where = f'(weight "{name}" of layer "{layer.name}")' if name else f'(a weight of layer "{layer.name}")'
    if shape is None:
        return ()
    if not hasattr(shape, "__iter__"):
        raise ValueError(f"Cannot convert '{shape}' to a shape {where}.")
    dims = []
    for d in shape:
        if d is None:
            raise ValueError(
                "Shapes used to initialize variables must be fully-defined (no `None` "
                f"dimensions). Received: shape={tuple(shape)} {where}"
            )
        if isinstance(d, bool) or not hasattr(d, "__index__"):
            raise ValueError(
                f"Cannot convert '{tuple(shape)}' to a shape. Found invalid dimension '{d}' of "
                f"type '{type(d)}' {where}."
            )
        if int(d) < 0:
            raise ValueError(
                f"Cannot convert '{tuple(shape)}' to a shape. Negative dimensions are not "
                f"allowed {where}."
            )
        dims.append(int(d))
    return tuple(dims)
