"""The calling half of `Layer`: eager calls under Keras's call context, the `nn.Module` entry
point, the symbolic half of the `Operation` protocol (nodes, masks, output specs) and what an
execution plan calls for a layer's nodes.
"""

import inspect

import numpy as np
import torch
from torch import nn

from keraslike.backend.traceback_utils import filtered, is_traceback_filtering_enabled
from keraslike.graph import hook_registry, nest
from keraslike.graph.call_context import record_losses
from keraslike.graph.call_context import state as _context
from keraslike.graph.hook_registry import global_hooks_active
from keraslike.graph.keras_tensor import KerasTensor, any_symbolic, symbolic_tensors
from keraslike.graph.node import Node
from keraslike.graph.plan import cast_floating
from keraslike.graph.shape_inference import infer_output_spec, torch_dtype
from keraslike.layers.input_spec import assert_input_compatibility
from keraslike.layers.layer_remat import remat_call
from keraslike.layers.mixed_call import float_call, mixed_call, mixed_layers_exist, uncast_call

_KEYWORDS = {}  # class -> (call takes **kwargs, names of its keyword parameters)
_jit_tracing_state = torch._C._get_tracing_state
_EAGER_TYPES = (torch.Tensor, np.ndarray)
# A policy's name says its compute dtype (`"mixed_float16"` -> float16): cached per name.
_COMPUTE_DTYPES = {}


def _per_class(cls, attribute, compute):
    """`compute(cls)`, cached on the class itself as `(cls, value)` (a subclass inheriting the
    attribute computes its own). Not in a dict keyed by class: under `torch.compile` a lookup
    in such a dict guards on all its keys, so each class first called later (a layer of another
    kind, anywhere in the program) would recompile every compiled model."""
    cached = getattr(cls, attribute, None)
    if cached is not None and cached[0] is cls:
        return cached[1]
    value = compute(cls)
    setattr(cls, attribute, (cls, value))
    return value


def _keeps_layer_forward(cls):
    """Whether `cls.forward` is `LayerCalling.forward` (cached per class)."""
    return _per_class(cls, "_keraslike_forward_is_layers", lambda c: c.forward is LayerCalling.forward)


def _call_signature(cls):
    """(takes `training`, takes `mask`, positional parameter names) of `cls.call`, cached."""
    return _call_info(cls)[:3]


def _call_info(cls):
    """(takes `training`, takes `mask`, positional parameter names, default of `training`,
    overrides `compute_mask`) of `cls.call`, cached per class (a class's methods are fixed once
    it is defined). The default is `None` unless `call` declares another."""
    return _per_class(cls, "_keraslike_call_info", _inspect_call)


def _inspect_call(cls):
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
    masks = cls.compute_mask is not LayerCalling.compute_mask
    return ("training" in params, "mask" in params, positional, default, masks)


def _mask_arguments(cls):
    """(argument name, positional index or None) of each `call` argument `x` that has an
    `x_mask` argument (MultiHeadAttention's `query`/`query_mask`), cached per class."""
    return _per_class(cls, "_keraslike_mask_arguments", _inspect_mask_arguments)


def _inspect_mask_arguments(cls):
    params = list(inspect.signature(cls.call).parameters)
    positional = _call_info(cls)[2]
    return tuple(
        (name, positional.index(name) if name in positional else None)
        for name in params
        if name != "mask" and f"{name}_mask" in params
    )


def _is_tensor_argument(value):
    """Whether a call argument counts as a tensor argument in Keras's mask rules: a tensor, or a
    non-empty list, tuple or dict whose leaves are all tensors (or `None`)."""
    if isinstance(value, (torch.Tensor, KerasTensor)):
        return True
    if isinstance(value, (list, tuple, dict)) and value:
        return all(x is None or isinstance(x, (torch.Tensor, KerasTensor)) for x in nest.flatten(value))
    return False


def _tensor_argument_count(args, kwargs):
    """How many of a call's arguments are tensor arguments (`_is_tensor_argument`). Keras fills
    an unset `mask` from the inputs' masks only when there is exactly one, and an `x_mask` from
    the masks of `x` only when there are several: `call(self, inputs, other, mask=None)` gets no
    mask."""
    return sum(map(_is_tensor_argument, args)) + sum(map(_is_tensor_argument, kwargs.values()))


def _check_call_keywords(layer, kwargs):
    """Keras's TypeError for a keyword argument `call` does not take (`dense(x, foo=1)`),
    raised at the symbolic call; `training` and `mask` are dropped before, as Keras does."""
    cls = type(layer)
    found = _KEYWORDS.get(cls)
    if found is None:
        params = inspect.signature(cls.call).parameters
        takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
        found = _KEYWORDS[cls] = (takes_any, frozenset(
            name for name, p in params.items() if p.kind is not p.POSITIONAL_ONLY))
    takes_any, names = found
    if takes_any:
        return
    unknown = [k for k in kwargs if k not in names]
    if unknown:
        raise TypeError(
            f'Layer "{layer.name}" ({cls.__name__}): `call()` got an unexpected keyword argument '
            f"{unknown[0]!r}. It takes: {sorted(names - {'self'})}"
        )


def _prefill_call_info(cls):
    """Caches `_call_info(cls)`, `_mask_arguments(cls)` and `_keeps_layer_forward(cls)` ahead
    of the first call (`Layer.__init__`), so a first call traced by dynamo reads the caches
    without changing them (a change fails the trace's guards: a second compile)."""
    try:
        _call_info(cls)
        _mask_arguments(cls)
        _keeps_layer_forward(cls)
    except (TypeError, ValueError):
        pass  # no inspectable `call`: the first call reports it, as before


def _shape_of(structure):
    return nest.map_structure(lambda x: tuple(x.shape) if hasattr(x, "shape") else x, structure)


def _check_positional_tensors(args, layer_name):
    """Raises Keras's ValueError when a positional argument holds a non-tensor leaf."""
    for leaf in nest.flatten(args):
        if leaf is None or isinstance(leaf, (torch.Tensor, KerasTensor)) or hasattr(leaf, "__array__"):
            continue
        raise ValueError(
            f"Only input tensors may be passed as positional arguments (layer '{layer_name}'). "
            f"The following argument value should be passed as a keyword argument: {leaf!r:.80} "
            f"(of type {type(leaf)})"
        )


class LayerCalling:
    """Mixin of `Layer`: calls (see the module docstring). Expects `nn.Module` state."""

    # Keras's rule: positional arguments are tensors (or arrays, or None); other values go by
    # keyword. Data layers that take Python lists and strings allow them.
    _allow_non_tensor_positional_args = False

    _remat_mode = None  # the `keras.RematScope` the layer was created in (`Layer.__init__`)
    # Whether a call under a mixed policy casts its floating outputs to the compute dtype (as
    # Keras's layers compute them); a model's outputs are its layers', left as they come.
    _casts_mixed_outputs = True
    # Whether the layer turns its own autocast off and casts its outputs to the compute dtype
    # itself (Keras's LayerNormalization, GroupNormalization, Embedding): for such a layer
    # `autocast=False` under a mixed policy only stops the input cast.
    _casts_own_mixed_outputs = False
    _mixed_compute = None  # set by `Layer._refresh_autocast`, as `_float_policy`, `_uncast_mixed`
    _uncast_mixed = False
    _float_policy = False
    _takes_half_inputs = False  # see `_note_half_inputs`

    def call(self, *args, **kwargs):
        """The layer's computation on torch tensors. Subclasses override it."""
        raise NotImplementedError(f"Layer {type(self).__name__} does not define `call()`.")

    def __call__(self, *args, **kwargs):
        if (not kwargs and len(args) == 1 and type(args[0]) in _EAGER_TYPES
                and getattr(args[0], "_keras_mask", None) is None):
            # The common eager call, `layer(tensor)` or `layer(array)`: nothing to filter; a
            # floating input of another dtype than the compute dtype is cast (Keras's autocast).
            if type(args[0]) is np.ndarray:
                args = (self._to_tensor(args[0]),)
            else:
                target = self._autocast_to
                if target is not None and args[0].dtype is not target and args[0].is_floating_point():
                    args = (cast_floating(args[0], target),)
            if self.input_spec is not None:
                assert_input_compatibility(self.input_spec, args[0], self.name)
            takes_training, _, _, default, masks = _call_info(type(self))
            if default is None and not masks:  # a layer computing an output mask: slow path
                training = _context.training
                kwargs = {} if training is None or not takes_training else {"training": training}
                if forward_is_direct(self):
                    return run_forward(self, args, kwargs)
                return nn.Module.__call__(self, args[0], **kwargs)
        try:  # the slow paths: an error leaves without keraslike's frames (free until one)
            if not self._allow_non_tensor_positional_args:
                _check_positional_tensors(args, self.name)
            if any_symbolic(args, kwargs):
                return self.symbolic_call(*args, **kwargs)
            return self._eager_call(args, kwargs)
        except Exception as error:
            if is_traceback_filtering_enabled():
                raise filtered(error)  # noqa: B904  (the same exception, a shorter traceback)
            raise

    def _eager_call(self, args, kwargs):
        # Keras's call context: an explicit `training` wins, else the enclosing call's value,
        # else a non-None default of `call`; that value is also the context of the sublayers.
        takes_training, takes_mask, _, default, masks = _call_info(type(self))
        outer = _context.training
        training = kwargs.pop("training", None)
        if training is None:
            training = outer if outer is not None else default
        if takes_training and training is not None:
            kwargs["training"] = training
        # Keras converts every numpy array of the arguments, nested or keyword.
        args, kwargs = nest.map_structure(self._array_to_tensor, (args, kwargs))
        # Keras's eager masks: the masks attached to the first argument's tensors are the
        # `mask` when none is given, and the input mask of `compute_mask`.
        first = args[0] if args else None
        previous_mask = kwargs.get("mask")
        tensor_arguments = None  # counted (before any mask is filled in) only when needed
        if previous_mask is None and first is not None:
            found = [getattr(x, "_keras_mask", None) for x in nest.flatten(first)]
            if any(m is not None for m in found):
                previous_mask = nest.pack_like(first, found)
                if takes_mask:
                    tensor_arguments = _tensor_argument_count(args, kwargs)
                    if tensor_arguments == 1:
                        kwargs["mask"] = previous_mask
        if not takes_mask and "mask" in kwargs:
            del kwargs["mask"]
        if _mask_arguments(type(self)):
            if tensor_arguments is None:
                tensor_arguments = _tensor_argument_count(args, kwargs)
            if tensor_arguments > 1:
                kwargs = self._with_argument_masks(args, kwargs)
        if self._autocast_to is not None:
            args, kwargs = cast_floating((args, kwargs), self._autocast_to)
        if self.input_spec is not None and args:
            if isinstance(args[0], torch.Tensor):
                assert_input_compatibility(self.input_spec, args[0], self.name)
            elif not isinstance(args[0], (list, tuple, dict)) and not hasattr(args[0], "shape"):
                raise ValueError(  # Keras's input-spec check (`dense(None)`, `dense("x")`)
                    f"Inputs to a layer should be tensors. Got {args[0]!r:.80} (of type "
                    f"{type(args[0])}) as input for layer '{self.name}'."
                )
        if training is outer:
            outputs = nn.Module.__call__(self, *args, **kwargs)
        else:
            _context.training = training
            try:
                outputs = nn.Module.__call__(self, *args, **kwargs)
            finally:
                _context.training = outer
        if first is not None and (masks or (previous_mask is not None and self.supports_masking)):
            self._set_eager_masks(first, previous_mask, outputs)
        return outputs

    def _array_to_tensor(self, leaf):
        return self._to_tensor(leaf) if isinstance(leaf, np.ndarray) else leaf

    def _set_eager_masks(self, inputs, previous_mask, outputs):
        """Attaches `compute_mask`'s masks to eager outputs that carry none yet (as Keras)."""
        mask = self.compute_mask(inputs, previous_mask)
        if mask is None:
            return
        out_list = nest.flatten(outputs)
        mask_list = nest.flatten(mask) if isinstance(mask, (list, tuple)) else [mask] * len(out_list)
        for out, m in zip(out_list, mask_list):
            if isinstance(out, torch.Tensor) and m is not None and getattr(out, "_keras_mask", None) is None:
                out._keras_mask = m

    def _to_tensor(self, array):
        """A numpy array as a tensor (no copy when it can be shared), floats in the compute
        dtype."""
        if array.dtype.kind in ("U", "S", "O"):
            try:
                tensor = torch.as_tensor(array.astype(np.float64 if array.dtype.kind == "O"
                                                      else array.dtype))
            except (TypeError, ValueError):
                text = repr(array)
                raise ValueError(
                    f'Layer "{self.name}" ({type(self).__name__}) takes numbers, but its input '
                    f"holds strings or Python objects (dtype {array.dtype}). Received: "
                    f"inputs={text if len(text) < 80 else text[:77] + '...'}"
                ) from None
            return tensor.to(torch_dtype(self.compute_dtype))
        tensor = torch.as_tensor(array)
        if tensor.is_floating_point():
            dtype = _COMPUTE_DTYPES.get(self._dtype_policy_name)
            if dtype is None:
                dtype = _COMPUTE_DTYPES[self._dtype_policy_name] = torch_dtype(self.compute_dtype)
            if tensor.dtype != dtype:
                tensor = tensor.to(dtype)
        return tensor

    # Whether the next eager call opens the layer's name scope (Keras opens it on every call):
    # only until a first call completes, when the sublayers its `call` builds are built.
    _scope_next_call = True

    def forward(self, *args, **kwargs):
        """Runs `call` (building the layer first if needed): the `nn.Module` entry point."""
        if not self.built or (not torch.compiler.is_compiling() and self._scope_next_call):
            with self._open_name_scope():
                if not self.built:
                    self._maybe_build(args, kwargs)
                    hook_registry.bump()  # plans that call this layer may now call it directly
                outputs = run_forward(self, args, kwargs)
            if not torch.compiler.is_compiling():
                self._scope_next_call = False
            return outputs
        return run_forward(self, args, kwargs)

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
            return nn.Module.__call__.__get__(self)  # `forward` adds the precision handling
        return with_precision(self, self.call, in_plan=True)

    def _own_weights_dtype(self):
        # The dtype of the layer's own floating weights (not its sublayers'), or None.
        for group in (self._parameters, self._buffers):
            for tensor in group.values():
                if tensor is not None and tensor.is_floating_point():
                    return tensor.dtype
        return None

    def _note_half_inputs(self, args, kwargs):
        # A float-policy layer fed half-precision tensors in a graph (Keras's float32 head of a
        # mixed model): its plan calls get the autocast-off guard from now on (a bump).
        dtype = self._compute_torch_dtype
        for x in symbolic_tensors((args, kwargs)):
            x_dtype = torch_dtype(x.dtype)
            if x_dtype.is_floating_point and x_dtype.itemsize < dtype.itemsize:
                self._takes_half_inputs = True
                hook_registry.bump()
                return

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
            or self._remat_mode is not None  # `forward` picks the rematerialized call
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

    def symbolic_call(self, *args, **kwargs):
        """Records a node for a call on KerasTensors and returns its symbolic outputs (building
        the layer first, propagating masks): the symbolic half of the `Operation` protocol."""
        takes_training, takes_mask, positional = _call_signature(type(self))
        first = args[0] if args else None
        assert_input_compatibility(
            self.input_spec, nest.flatten(first) if isinstance(first, (list, tuple)) else first, self.name
        )
        with self._open_name_scope():
            self._maybe_build(args, kwargs)
        if self._float_policy and not self._takes_half_inputs and mixed_layers_exist():
            self._note_half_inputs(args, kwargs)
        previous_mask = kwargs.get("mask")
        tensor_arguments = _tensor_argument_count(args, kwargs)
        if previous_mask is None and first is not None:
            masks = [getattr(x, "_keras_mask", None) for x in nest.flatten(first)]
            if any(m is not None for m in masks):
                previous_mask = nest.pack_like(first, masks)
                if takes_mask and tensor_arguments == 1:
                    kwargs = dict(kwargs, mask=previous_mask)
        if not takes_mask and "mask" in kwargs:
            kwargs = {k: v for k, v in kwargs.items() if k != "mask"}
        if tensor_arguments > 1:
            kwargs = self._with_argument_masks(args, kwargs)
        if not takes_training:
            kwargs.pop("training", None)
        if kwargs:
            _check_call_keywords(self, kwargs)
        with self._open_name_scope():  # sublayers first built by `call` get paths under ours
            outputs = self.compute_output_spec(*args, **kwargs)
        Node(self, args, kwargs, outputs)
        if first is not None:
            self._set_output_masks(first, previous_mask, outputs)
        return outputs

    def _with_argument_masks(self, args, kwargs):
        """`kwargs` with each unset `x_mask` of `call` filled from the masks attached to `x`
        (Keras's rule for a call with several tensor arguments): eagerly, and symbolically, so
        that the node records them and the plan passes them."""
        for name, index in _mask_arguments(type(self)):
            value = args[index] if index is not None and index < len(args) else kwargs.get(name)
            if value is not None and kwargs.get(f"{name}_mask") is None:
                found = [getattr(x, "_keras_mask", None) for x in nest.flatten(value)]
                if any(m is not None for m in found):
                    kwargs = dict(kwargs, **{f"{name}_mask": nest.pack_like(value, found)})
        return kwargs

    def _set_output_masks(self, inputs, previous_mask, outputs):
        overrides = type(self).compute_mask is not LayerCalling.compute_mask
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
        raise NotImplementedError(  # Keras's message
            f'Layer {type(self).__name__} ("{self.name}") does not have a `compute_output_shape` '
            "method implemented. Should implement `def compute_output_shape(self, input_shape)`."
        )

    def compute_output_spec(self, *args, **kwargs):
        """Returns KerasTensors describing the outputs of a call on these symbolic inputs.

        Uses `compute_output_shape` when the layer defines it for a single input, and otherwise
        runs `call` on meta tensors (so layers written with plain torch ops need no shape code).
        """
        tensors = symbolic_tensors((args, kwargs))
        method = type(self).compute_output_shape
        # A model's own `compute_output_shape` runs the graph itself: not an override to use here.
        overrides = method is not LayerCalling.compute_output_shape and not getattr(
            method, "_runs_the_call", False
        )
        if overrides and len(args) == 1 and len(tensors) == len(nest.flatten(args[0])):
            shape = self.compute_output_shape(_shape_of(args[0]))
            return _spec_from_shape(shape, self.compute_dtype)
        return infer_output_spec(
            self.__call__, args, kwargs, module=self, description=f'layer "{self.name}"'
        )


def _spec_from_shape(shape, dtype):
    if isinstance(shape, dict):
        return {k: _spec_from_shape(v, dtype) for k, v in shape.items()}
    shape = tuple(shape) if not isinstance(shape, list) else shape
    if all(d is None or isinstance(d, int) for d in shape):
        return KerasTensor(tuple(shape), dtype=dtype)
    return type(shape)(_spec_from_shape(s, dtype) for s in shape)


# The per-call helpers below are module functions, not methods: under `torch.compile` each
# method looked up on a layer adds guards that no subclass or instance shadows it (one per class
# of its MRO, for each layer), which a compiled subclassed model evaluates on every call.

def forward_is_direct(layer):
    """Whether `nn.Module.__call__` would only run `forward`, and `forward` only `run_forward`:
    the class keeps Layer's `forward`, the layer is built and past its first call's name scope,
    no torch hook is set on it or torch-wide, `torch.jit.trace` is not recording and
    `nn.Module.compile()` was not called on it. Read on each eager call (a few attribute reads,
    three Python frames fewer than the module call chain)."""
    return (
        _keeps_layer_forward(type(layer))
        and layer.built
        and (torch.compiler.is_compiling() or not layer._scope_next_call)  # as `forward`
        and not (layer._forward_hooks or layer._forward_pre_hooks or layer._backward_hooks
                 or layer._backward_pre_hooks)
        and not global_hooks_active()
        and not _jit_tracing_state()
        and layer._compiled_call_impl is None  # `layer.compile()`: torch's call runs it
    )


def run_forward(layer, args, kwargs):
    """Runs `layer.call` (rematerialized and precision-wrapped as the layer asks) and records
    the losses it adds: what `forward` does once the layer is built."""
    call = layer.call if layer._remat_mode is None else remat_call(layer, args, kwargs)
    call = with_precision(layer, call)
    collected = _context.losses
    # `_last_collection`, the list this layer's most recent forward added its losses to, is
    # written into `__dict__` (Layer.__setattr__ costs more than the rest of a Dense call)
    # and only when something may be read from it (see `call_context.record_losses`).
    if collected is not None:  # inside a model's or a layer's call
        if _context.losses_added:
            layer.__dict__["_last_collection"] = collected
        outputs = call(*args, **kwargs)
        if layer._activity_regularizer is not None:
            layer._add_activity_losses(outputs)
        return outputs
    # The outermost call: it opens the list of this forward's added losses.
    _context.losses = collected = []
    try:
        outputs = call(*args, **kwargs)
        if layer._activity_regularizer is not None:
            layer._add_activity_losses(outputs)
    finally:
        _context.losses = None
        record_losses(_context, collected, layer.__dict__, "_last_collection")
    return outputs


def with_precision(layer, call, in_plan=False):
    """`call` with the dtype handling of `layer`'s mixed precision policy (`mixed_call.py`):
    under a mixed policy, autocast and outputs in the compute dtype; for a plain float policy,
    once mixed layers exist, autocast off inside mixed calls (in a plan: only for a layer that
    takes half-precision inputs in some graph, so float graphs keep direct, fusable calls);
    otherwise `call` itself (quantized policies such as `"int8_from_mixed_bfloat16"` compute
    their own dtypes); under a mixed policy with `autocast=False`, autocast off and inputs
    promoted to the weights' dtype."""
    mixed = layer._mixed_compute
    if mixed is not None:
        return mixed_call(call, mixed, cast_outputs=layer._casts_mixed_outputs)
    if layer._uncast_mixed:
        return uncast_call(call, layer._own_weights_dtype)
    if layer._float_policy and mixed_layers_exist() and (
        not in_plan or layer._takes_half_inputs
    ):
        return float_call(call, in_mixed_graph=in_plan)
    return call
