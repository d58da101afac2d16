"""How each built-in layer becomes torch source: a torch module (or none) and a call expression.

A translator takes the layer and returns a `Translation`: the constructor source of the torch
module that holds its weights (`nn.Linear(...)`, `nn.Conv2d(...)`, or `None` for a stateless
layer), the tensors of that module's `state_dict()`, the helper functions the call needs, and a
function from the call's input expressions to its output expression(s). Translators are found by
the layer's class (its MRO), so a subclass of a built-in layer uses its parent's translator only
when it does not override `call`. A layer class outside this table (a custom layer, the
applications' private layers) declares its own with a `torch_source_translation()` method
(`declared_translation` documents the contract).
"""

from keraslike import activations
from keraslike.backend import config as backend_config
from keraslike import layers as L
from keraslike.export.torch_source.activations import activation_expression
from keraslike.export.torch_source.errors import Untranslatable


class Translation:
    """The torch side of one layer.

    Args:
        module: Constructor source of the torch module holding the weights, or `None`.
        state: `{name: tensor}`, that module's `state_dict()` (torch layouts).
        call: `call(module, inputs, node) -> str or list of str`, the expression(s) for the
            outputs; `module` is the attribute holding the torch module (e.g. `self.dense`),
            `inputs` the expressions of the node's flat inputs.
        helpers: Names of helper functions the call uses (see `helpers.HELPERS`).
        sources: `{name: source}` of helper functions or classes the layer brings itself (from
            its `torch_source_translation`), written once into the file.
    """

    def __init__(self, module=None, state=None, call=None, helpers=(), sources=None):
        self.module = module
        self.state = dict(state or {})
        self.call = call
        self.helpers = tuple(helpers)
        self.sources = dict(sources or {})  # helpers a layer brings itself: {name: source}


def _refuse(layer, why):
    raise Untranslatable(
        f'Layer "{layer.name}" ({type(layer).__name__}) cannot be written as torch source: {why}.'
    )


def _channels_last(layer):
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        _refuse(layer, 'only data_format="channels_last" is supported')


def _tensors(layer, *names):
    return {name: getattr(layer, name) for name in names if getattr(layer, name, None) is not None}


def _options(**options):
    """`name=value` for each option whose value differs from its default: `{name: (value, default)}`."""
    return ", ".join(f"{k}={v!r}" for k, (v, default) in options.items() if v != default)


def _dense(layer):
    weight = layer.weight
    bias = "" if layer.bias is not None else ", bias=False"
    ctor = f"nn.Linear({weight.shape[1]}, {weight.shape[0]}{bias})"

    def call(module, inputs, node):
        return activation_expression(layer.activation, f"{module}({inputs[0]})", layer)

    return Translation(ctor, _tensors(layer, "weight", "bias"), call)


def _embedding(layer):
    if getattr(layer, "lora_rank", None):
        _refuse(layer, "LoRA adapters are not supported")
    n, d = layer.weight.shape
    return Translation(
        f"nn.Embedding({n}, {d})",
        {"weight": layer.weight},
        lambda module, inputs, node: f"{module}({inputs[0]}.long())",
    )


def _activation(layer):
    return Translation(call=lambda module, inputs, node: activation_expression(layer.activation, inputs[0], layer))


def _identity(layer):
    return Translation(call=lambda module, inputs, node: inputs[0])


def _dropout(layer):
    return Translation(f"nn.Dropout({float(layer.rate)!r})", {}, lambda module, inputs, node: f"{module}({inputs[0]})")


def _flatten(layer):
    _channels_last(layer)
    return Translation(call=lambda module, inputs, node: f"{inputs[0]}.flatten(1)")


def _reshape(layer):
    target = tuple(-1 if d is None else d for d in layer.target_shape)
    return Translation(call=lambda module, inputs, node: f"{inputs[0]}.reshape(({inputs[0]}.shape[0],) + {target!r})")


def _permute(layer):
    return Translation(call=lambda module, inputs, node: f"{inputs[0]}.permute({(0,) + tuple(layer.dims)!r})")


def _repeat_vector(layer):
    return Translation(call=lambda module, inputs, node: f"{inputs[0]}.unsqueeze(1).expand(-1, {layer.n}, -1)")


def _zero_padding(layer):
    return Translation(call=lambda module, inputs, node: f"F.pad({inputs[0]}, {list(layer._flat)!r})")


def _cropping(layer):
    axes, pairs = layer._axes, layer._pairs()

    def call(module, inputs, node):
        index = [":"] * len(node.input_tensors[0].shape)
        for axis, (before, after) in zip(axes, pairs):
            index[axis] = f"{before}:{-after}" if after else f"{before}:"
        return f"{inputs[0]}[{', '.join(index)}]"

    return Translation(call=call)


def _up_sampling(layer):
    _channels_last(layer)
    if getattr(layer, "_mode", "nearest-exact") != "nearest-exact":
        _refuse(layer, "only nearest-neighbour upsampling is supported")
    axes = range(1, 1 + len(layer.size))

    def call(module, inputs, node):
        x = inputs[0]
        for axis, size in zip(axes, layer.size):
            if size != 1:
                x = f"{x}.repeat_interleave({size}, dim={axis})"
        return x

    return Translation(call=call)


def _up_sampling_1d(layer):
    return Translation(call=lambda module, inputs, node: f"{inputs[0]}.repeat_interleave({layer.size}, dim=1)")


def _conv(layer, groups=None):
    _channels_last(layer)
    if getattr(layer, "lora_rank", None):
        _refuse(layer, "LoRA adapters are not supported")
    rank = layer.rank
    weight = layer.weight
    groups = layer.groups if groups is None else groups
    ctor = f"nn.Conv{rank}d({weight.shape[1] * groups}, {weight.shape[0]}, " + _options(
        kernel_size=(tuple(layer.kernel_size), None),
        stride=(tuple(layer.strides), (1,) * rank),
        dilation=(tuple(layer.dilation_rate), (1,) * rank),
        groups=(groups, 1),
        bias=(layer.bias is not None, True),
    ) + ")"
    padding = "" if layer.padding == "valid" else f", {layer.padding!r}"

    def call(module, inputs, node):
        inner = f"conv_channels_last({module}, {inputs[0]}{padding})"
        return activation_expression(layer.activation, inner, layer)

    return Translation(ctor, _tensors(layer, "weight", "bias"), call, helpers=("conv_channels_last",))


def _depthwise_conv(layer):
    # Stored like nn.ConvNd(in, in * depth_multiplier, k, groups=in): a grouped convolution.
    return _conv(layer, groups=layer._groups)


def _separable_conv(layer):
    _channels_last(layer)
    rank = layer.rank
    depthwise, pointwise = layer.depthwise_weight, layer.pointwise_weight
    channels = depthwise.shape[0] // layer.depth_multiplier
    ctor = (
        f"SeparableConv({rank}, {channels}, {layer.depth_multiplier}, {pointwise.shape[0]}, "
        f"{tuple(layer.kernel_size)!r}, {tuple(layer.strides)!r}, {tuple(layer.dilation_rate)!r}, "
        f"bias={layer.bias is not None})"
    )
    state = {"depthwise.weight": depthwise, "pointwise.weight": pointwise}
    if layer.bias is not None:
        state["pointwise.bias"] = layer.bias
    padding = "" if layer.padding == "valid" else f", {layer.padding!r}"

    def call(module, inputs, node):
        inner = f"conv_channels_last({module}.depthwise, {inputs[0]}{padding})"
        inner = f"conv_channels_last({module}.pointwise, {inner})"
        return activation_expression(layer.activation, inner, layer)

    return Translation(ctor, state, call, helpers=("conv_channels_last", "SeparableConv"))


def _relu(layer):
    slope, threshold, max_value = float(layer.negative_slope), float(layer.threshold), layer.max_value
    if slope != 0.0 or threshold != 0.0:
        _refuse(layer, "only negative_slope=0 and threshold=0 are supported")

    def call(module, inputs, node):
        if max_value is None:
            return f"F.relu({inputs[0]})"
        if float(max_value) == 6.0:
            return f"F.relu6({inputs[0]})"
        return f"torch.clamp({inputs[0]}, 0.0, {float(max_value)!r})"

    return Translation(call=call)


def _rescaling(layer):
    scale, offset = layer._scalar_scale, layer._scalar_offset
    if scale is None or offset is None:
        _refuse(layer, "only scalar scale and offset are supported")
    # The same two operations as the layer, with the same compute-dtype-rounded numbers.
    return Translation(call=lambda module, inputs, node: f"({inputs[0]} * {scale!r} + {offset!r})")


def _normalization(layer):
    if not layer.built:
        _refuse(layer, "it is not built")
    mean, variance = layer.mean.detach(), layer.variance.detach()
    ctor = f"Normalize({tuple(mean.shape)!r}, {backend_config.epsilon()!r}, invert={bool(layer.invert)})"
    return Translation(ctor, {"mean": mean, "variance": variance},
                       lambda module, inputs, node: f"{module}({inputs[0]})", helpers=("Normalize",))


def _conv_transpose(layer):
    _channels_last(layer)
    if layer._extend is not None and layer.bias is not None:
        _refuse(layer, "this output geometry adds the bias after padding")
    rank = layer.rank
    weight = layer.weight  # (in, out, *kernel), like nn.ConvTransposeNd
    ctor = f"nn.ConvTranspose{rank}d({weight.shape[0]}, {weight.shape[1]}, " + _options(
        kernel_size=(tuple(layer.kernel_size), None),
        stride=(tuple(layer.strides), (1,) * rank),
        padding=(tuple(layer._torch_padding), (0,) * rank),
        output_padding=(tuple(layer._torch_output_padding), (0,) * rank),
        dilation=(tuple(layer.dilation_rate), (1,) * rank),
        bias=(layer.bias is not None, True),
    ) + ")"

    def call(module, inputs, node):
        extra = ""
        if layer._trim is not None or layer._extend is not None:
            extra = f", trim={layer._trim!r}, extend={layer._extend!r}"
        inner = f"conv_transpose_channels_last({module}, {inputs[0]}{extra})"
        return activation_expression(layer.activation, inner, layer)

    return Translation(ctor, _tensors(layer, "weight", "bias"), call, helpers=("conv_transpose_channels_last",))


def _pooling(layer):
    _channels_last(layer)
    args = f"{layer.pool_mode!r}, {tuple(layer.pool_size)!r}, {tuple(layer.strides)!r}, {layer._padding!r}"
    return Translation(
        call=lambda module, inputs, node: f"pool_channels_last({inputs[0]}, {args})",
        helpers=("pool_channels_last",),
    )


def _global_pooling(layer):
    fn = "amax" if layer._mode == "max" else "mean"

    def call(module, inputs, node):
        _refuse_masked(layer, node)
        return f"torch.{fn}({inputs[0]}, dim={tuple(layer._axes)!r}, keepdim={bool(layer.keepdims)})"

    return Translation(call=call)


def _refuse_masked(layer, node):
    if node.call_kwargs.get("mask") is not None or any(
        getattr(t, "_keras_mask", None) is not None for t in node.input_tensors
    ):
        _refuse(layer, "masked inputs are not supported")


def _batch_norm(layer):
    if getattr(layer, "renorm", False) or getattr(layer, "synchronized", False):
        _refuse(layer, "renorm and synchronized batch normalization are not supported")
    features = layer.running_mean.shape[0]
    # Keras's momentum m updates moving = moving * m + batch * (1 - m): torch's momentum is 1 - m.
    momentum = round(1.0 - layer.momentum, 12)
    helpers = ()
    if (layer.weight is None) == (layer.bias is None):
        ctor = (
            f"nn.BatchNorm1d({features}, eps={layer.epsilon!r}, momentum={momentum!r}, "
            f"affine={layer.weight is not None})"
        )
    else:  # center or scale off (Inception's `scale=False`): nn.BatchNorm has both or neither
        ctor = (
            f"KerasBatchNorm({features}, {layer.epsilon!r}, {momentum!r}, "
            f"scale={layer.weight is not None}, center={layer.bias is not None})"
        )
        helpers = ("KerasBatchNorm",)
    state = _tensors(layer, "weight", "bias", "running_mean", "running_var")
    axis = layer.axis

    def call(module, inputs, node):
        rank = len(node.input_tensors[0].shape)
        if axis % rank == rank - 1:
            x = inputs[0]
            # (B, ..., C) -> (N, C): torch's 1-D batch norm normalizes per channel over N.
            return f"{module}({x}.reshape(-1, {features})).reshape({x}.shape)"
        if axis % rank == 1:
            return f"{module}({inputs[0]}.flatten(2)).reshape({inputs[0]}.shape)"
        _refuse(layer, f"axis={axis} is not supported")

    return Translation(ctor, state, call, helpers=helpers)


def _layer_norm(layer):
    if getattr(layer, "rms_scaling", False) or not layer._trailing:
        _refuse(layer, "only normalization over the trailing axes is supported")
    shape = tuple(layer._normalized_shape)
    affine = layer.weight is not None or layer.bias is not None
    if affine and (layer.weight is None or layer.bias is None):
        _refuse(layer, "center and scale must be both on or both off")
    ctor = f"nn.LayerNorm({shape!r}, eps={layer.epsilon!r}, elementwise_affine={affine})"
    return Translation(ctor, _tensors(layer, "weight", "bias"), lambda module, inputs, node: f"{module}({inputs[0]})")


def _merge(op):
    def translator(layer):
        def call(module, inputs, node):
            if op == "average":
                return f"({' + '.join(inputs)}) / {len(inputs)}"
            if op in ("maximum", "minimum"):
                expression = inputs[0]
                for x in inputs[1:]:
                    expression = f"torch.{op}({expression}, {x})"
                return expression
            return "(" + f" {op} ".join(inputs) + ")"

        return Translation(call=call)

    return translator


def _concatenate(layer):
    return Translation(call=lambda module, inputs, node: f"torch.cat([{', '.join(inputs)}], dim={layer.axis})")


def _recurrent(kind):
    def translator(layer):
        cell = layer.cell
        if getattr(layer, "stateful", False) or getattr(layer, "return_state", False):
            _refuse(layer, "stateful layers and return_state are not supported")
        if kind in ("LSTM", "GRU") and (
            _name(cell.activation) != "tanh" or _name(cell.recurrent_activation) != "sigmoid"
        ):
            _refuse(layer, "only the default activations (tanh, sigmoid) are supported")
        if kind == "RNN" and _name(cell.activation) not in ("tanh", "relu"):
            _refuse(layer, "only tanh and relu SimpleRNN activations are supported")
        state = dict(layer.named_parameters(recurse=False))
        state.update(layer.named_buffers(recurse=False))  # e.g. LSTM's bias_hh_l0 (zeros)
        if kind == "GRU":
            if not getattr(cell, "reset_after", True):
                _refuse(layer, "reset_after=False has no torch.nn.GRU equivalent")
            bias = state.pop("bias", None)
            if bias is not None:
                state["bias_ih_l0"], state["bias_hh_l0"] = bias[0], bias[1]
        use_bias = any(name.startswith("bias") for name in state)
        input_size = state["weight_ih_l0"].shape[1]
        extra = f", nonlinearity={_name(cell.activation)!r}" if kind == "RNN" else ""
        ctor = f"nn.{kind}({input_size}, {cell.units}, batch_first=True, bias={use_bias}{extra})"

        def call(module, inputs, node):
            _refuse_masked(layer, node)
            return (
                f"recurrent({module}, {inputs[0]}, return_sequences={bool(layer.return_sequences)}, "
                f"go_backwards={bool(layer.go_backwards)})"
            )

        return Translation(ctor, state, call, helpers=("recurrent",))

    return translator


def _name(activation):
    if activation is None:
        return None
    try:
        return activations.serialize(activation)
    except ValueError:  # a lambda or an unregistered function
        return getattr(activation, "__name__", repr(activation))


TRANSLATORS = {
    L.Dense: _dense,
    L.Embedding: _embedding,
    L.Activation: _activation,
    L.Identity: _identity,
    L.Dropout: _dropout,
    L.GaussianNoise: _identity,
    L.GaussianDropout: _identity,
    L.AlphaDropout: _identity,
    L.ActivityRegularization: _identity,
    L.Flatten: _flatten,
    L.Reshape: _reshape,
    L.Permute: _permute,
    L.RepeatVector: _repeat_vector,
    L.ZeroPadding1D: _zero_padding,
    L.ZeroPadding2D: _zero_padding,
    L.ZeroPadding3D: _zero_padding,
    L.Cropping1D: _cropping,
    L.Cropping2D: _cropping,
    L.Cropping3D: _cropping,
    L.UpSampling1D: _up_sampling_1d,
    L.UpSampling2D: _up_sampling,
    L.UpSampling3D: _up_sampling,
    L.Conv1D: _conv,
    L.Conv2D: _conv,
    L.Conv3D: _conv,
    L.DepthwiseConv1D: _depthwise_conv,
    L.DepthwiseConv2D: _depthwise_conv,
    L.SeparableConv1D: _separable_conv,
    L.SeparableConv2D: _separable_conv,
    L.ReLU: _relu,
    L.Rescaling: _rescaling,
    L.Normalization: _normalization,
    L.Conv1DTranspose: _conv_transpose,
    L.Conv2DTranspose: _conv_transpose,
    L.Conv3DTranspose: _conv_transpose,
    L.MaxPooling1D: _pooling,
    L.MaxPooling2D: _pooling,
    L.MaxPooling3D: _pooling,
    L.AveragePooling1D: _pooling,
    L.AveragePooling2D: _pooling,
    L.AveragePooling3D: _pooling,
    L.GlobalMaxPooling1D: _global_pooling,
    L.GlobalMaxPooling2D: _global_pooling,
    L.GlobalMaxPooling3D: _global_pooling,
    L.GlobalAveragePooling1D: _global_pooling,
    L.GlobalAveragePooling2D: _global_pooling,
    L.GlobalAveragePooling3D: _global_pooling,
    L.BatchNormalization: _batch_norm,
    L.LayerNormalization: _layer_norm,
    L.Add: _merge("+"),
    L.Subtract: _merge("-"),
    L.Multiply: _merge("*"),
    L.Average: _merge("average"),
    L.Maximum: _merge("maximum"),
    L.Minimum: _merge("minimum"),
    L.Concatenate: _concatenate,
    L.LSTM: _recurrent("LSTM"),
    L.GRU: _recurrent("GRU"),
    L.SimpleRNN: _recurrent("RNN"),
}


_DECLARED_KEYS = {"module", "state", "call", "helpers"}


def declared_translation(layer):
    """The `Translation` a layer declares with its `torch_source_translation()` hook.

    The hook returns a dict (plain data: layers never import the exporter):

    - `"call"` (required): `call(module, inputs, node) -> str` (or a list of str, one per
      output), the torch expression of the outputs from `module` (the attribute holding the
      layer's torch module, e.g. `"self.layer_scale"`) and `inputs` (the expressions of the
      node's flat inputs); `node` is the graph node (`node.input_tensors` for shapes).
    - `"module"`: constructor source of the torch module that holds the layer's weights
      (`"nn.Linear(4, 3)"`, or a class from `"helpers"`), or absent for a stateless layer.
    - `"state"`: `{name: tensor}`, that module's `state_dict()`.
    - `"helpers"`: `{name: source}` of functions or classes the expressions use, written once
      into the ejected file (names must not clash with another helper's different source).
    """
    spec = layer.torch_source_translation()
    if not isinstance(spec, dict) or "call" not in spec or set(spec) - _DECLARED_KEYS:
        _refuse(
            layer,
            "its torch_source_translation() must return a dict with a 'call' and optional "
            f"'module', 'state', 'helpers'; received {spec!r}",
        )
    sources = dict(spec.get("helpers") or {})
    return Translation(spec.get("module"), spec.get("state"), spec["call"], sources=sources)


def translator_for(layer):
    """The translator of `layer`'s class, or `None`.

    A class that defines `torch_source_translation()` translates itself (`declared_translation`);
    otherwise the built-in table is searched by the class's MRO. A subclass that overrides
    `call` is its own layer: it gets no translator of its parent.
    """
    cls = type(layer)
    for base in cls.__mro__:
        declared = "torch_source_translation" in base.__dict__
        if declared or base in TRANSLATORS:
            if base is not cls and _overrides_call(cls, base):
                return None
            return declared_translation if declared else TRANSLATORS[base]
    return None


def _overrides_call(cls, base):
    return any("call" in klass.__dict__ for klass in cls.__mro__[: cls.__mro__.index(base)])
