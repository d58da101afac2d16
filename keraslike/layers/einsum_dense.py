"""EinsumDense: a dense layer whose contraction is an einsum equation."""

import copy
import re

import torch

from keraslike import activations, constraints, initializers, quantizers, regularizers
from keraslike.layers.input_spec import InputSpec
from keraslike.layers.layer import Layer
from keraslike.layers.layer_utils import serialize_or_none as _serialize
from keraslike.layers.lora import LoraMixin, lora_config
from keraslike.layers.quantized_einsum import EinsumQuantizationMixin


def with_fan_axes(initializer, input_axes, output_axes):
    """`initializer`, or for a `VarianceScaling` without fan axes a copy with these axes: Keras
    computes an einsum kernel's fans from its input and output axes. A copy, not `from_config`:
    an unseeded initializer keeps the seed it took (a new one would take another seed from
    Python's `random` than Keras's layer takes)."""
    if isinstance(initializer, initializers.VarianceScaling) and (
        initializer.input_axes is None or initializer.output_axes is None
    ):
        initializer = copy.copy(initializer)
        initializer.input_axes, initializer.output_axes = input_axes, output_axes
    return initializer


class EinsumDense(EinsumQuantizationMixin, LoraMixin, Layer):
    """A dense layer computing `activation(einsum(equation, inputs, kernel) + bias)`.

    The kernel's shape follows from the equation: each kernel letter takes its size from the
    output (`output_shape`) or, failing that, from the input. `...` stands for dimensions
    passed through (on the left, `"...b,bc->...c"`, or on the right, `"ab...,bc->ac..."`).
    Weights are stored in Keras's layout (`kernel`, `bias`), since torch has no such module.

    Args:
        equation: `"[input],[kernel]->[output]"` with letters for axes, the batch axis included
            (e.g. `"ab,bc->ac"` is Dense; `"abc,cde->abde"` projects to heads).
        output_shape: Expected output shape without the batch axis (an int for one axis); `None`
            for a dimension taken from the input.
        activation: Activation name or function (default: none).
        bias_axes: Letters of the output that get a bias (e.g. `"de"`), or `None` for no bias.
        kernel_initializer: Initializer of the kernel (`"glorot_uniform"`, with fans computed from
            the kernel's input and output axes as in Keras).
        bias_initializer: Initializer of the bias (`"zeros"`).
        kernel_regularizer, bias_regularizer: Optional weight penalties.
        activity_regularizer: Optional penalty on the output.
        kernel_constraint, bias_constraint: Optional weight constraints.
        lora_rank: Optional integer: when set, the layer is built with LoRA adapters
            `lora_kernel_a` `(*kernel.shape[:-1], rank)` and `lora_kernel_b`
            `(rank, kernel.shape[-1])` and the kernel is frozen (see `enable_lora`).
        lora_alpha: Optional LoRA scale numerator (defaults to `lora_rank`).

    Input shape:
        Matches the equation's input term (`...` for any leading or trailing dimensions).

    Output shape:
        `(batch_size,) + output_shape` (plus the dimensions `...` passes through).

    Example:

    ```python
    x = keras.Input(shape=(32, 64))
    y = keras.layers.EinsumDense("abc,cde->abde", output_shape=(None, 8, 16), bias_axes="de")(x)
    # y.shape == (None, 32, 8, 16)
    ```
    """

    activation = activations.LayerActivation()  # assigning it also sets `_act`, which call applies

    def __init__(
        self,
        equation,
        output_shape,
        activation=None,
        bias_axes=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        lora_rank=None,
        lora_alpha=None,
        gptq_unpacked_column_size=None,
        quantization_config=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(quantization_config, dict):
            quantization_config = quantizers.deserialize(quantization_config)
        if not isinstance(equation, str):
            raise ValueError(
                f'Argument `equation` of layer "{self.name}" must be a string. '
                f"Received: equation={equation!r}"
            )
        _split_equation(equation, self.name)  # validates the form early
        self.equation = equation
        if isinstance(output_shape, int):
            self.partial_output_shape = (output_shape,)
        else:
            self.partial_output_shape = tuple(output_shape)
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self._init_lora(lora_rank, lora_alpha)
        self.gptq_unpacked_column_size = gptq_unpacked_column_size
        self.quantization_config = quantization_config
        self._act = activations.runtime_form(self.activation)

    def build(self, input_shape):
        kernel_shape, bias_shape, _, input_axes, output_axes = _analyze(
            self, self.equation, self.bias_axes, input_shape, self.partial_output_shape
        )
        self.input_spec = InputSpec(ndim=len(input_shape))
        kernel_initializer = with_fan_axes(self.kernel_initializer, input_axes, output_axes)
        if self.quantization_mode is None or not self._build_quantized_from_policy(kernel_shape):
            self.add_weight(
                shape=tuple(kernel_shape),
                name="kernel",
                initializer=kernel_initializer,
                regularizer=self.kernel_regularizer,
                constraint=self.kernel_constraint,
            )
        if bias_shape is not None:
            self.add_weight(
                shape=tuple(bias_shape),
                name="bias",
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None
        self._lora_axis = self._lora_output_axis()
        self.built = True
        self._maybe_enable_lora()

    @property
    def kernel(self):
        """The kernel in Keras's layout, LoRA update merged in."""
        return self._kernel_property()

    def _lora_output_axis(self):
        """Output axis holding the kernel's last letter (the adapters' rank axis), or None."""
        _, kernel_spec, output_spec, left_elided = _split_equation(self.equation, self.name)
        i = output_spec.find(kernel_spec[-1])
        if i < 0:
            return None
        return i - len(output_spec) if left_elided else i

    def call(self, inputs, training=None):
        if self._quant_mode is not None:
            return self._quantized_call(inputs, training)
        x = torch.einsum(self.equation, inputs, self._find_tensor("kernel"))
        if self.lora_enabled:
            axis = self._lora_axis
            if axis is None:  # the rank axis is contracted away: use the merged kernel
                x = torch.einsum(self.equation, inputs, self._lora_delta_keras()) + x
            else:
                lora_x = torch.einsum(self.equation, inputs, self.lora_kernel_a)
                lora_x = torch.matmul(lora_x.movedim(axis, -1), self.lora_kernel_b)
                x = x + self._lora_scale * lora_x.movedim(-1, axis)
        if self.bias is not None:
            x = x + self.bias
        if self._act is not None:
            x = self._act(x)
        return x

    def compute_output_shape(self, input_shape):
        _, _, full_output_shape, _, _ = _analyze(
            self, self.equation, self.bias_axes, input_shape, self.partial_output_shape
        )
        return tuple(full_output_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "output_shape": self.partial_output_shape,
                "equation": self.equation,
                "activation": activations.serialize(self.activation),
                "bias_axes": self.bias_axes,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": _serialize(regularizers, self.kernel_regularizer),
                "bias_regularizer": _serialize(regularizers, self.bias_regularizer),
                "activity_regularizer": _serialize(regularizers, self.activity_regularizer),
                "kernel_constraint": _serialize(constraints, self.kernel_constraint),
                "bias_constraint": _serialize(constraints, self.bias_constraint),
                "quantization_config": quantizers.serialize(self.quantization_config),
            }
        )
        if self.gptq_unpacked_column_size:
            config["gptq_unpacked_column_size"] = self.gptq_unpacked_column_size
        return lora_config(self, config)


_FORMS = (
    (re.compile(r"^([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$"), False),
    (re.compile(r"^0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)$"), True),
    (re.compile(r"^([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0$"), False),
)


def _split_equation(equation, layer_name=None):
    """Returns `(input_spec, kernel_spec, output_spec, left_elided)` or raises a ValueError."""
    compact = equation.replace(" ", "").replace("...", "0")
    for pattern, left_elided in _FORMS:
        found = pattern.match(compact)
        if found:
            return found.group(1), found.group(2), found.group(3), left_elided
    where = f' (layer "{layer_name}")' if layer_name else ""
    raise ValueError(
        f"Invalid einsum equation '{equation}'{where}. Equations must be in the form "
        "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]...."
    )


def _analyze(layer, equation, bias_axes, input_shape, output_shape):
    """Kernel shape, bias shape, full output shape, kernel input axes and output axes.

    Follows Keras's `_analyze_split_string`, so shapes (and fans) match Keras's.
    """
    input_spec, weight_spec, output_spec, left_elided = _split_equation(equation, layer.name)
    input_shape = tuple(input_shape)
    elided = len(input_shape) - len(input_spec)
    output_shape = [input_shape[0]] + list(output_shape)
    if elided > 0 and left_elided:
        for i in range(1, elided):
            output_shape.insert(1, input_shape[i])
    elif elided > 0:
        for i in range(len(input_shape) - elided, len(input_shape)):
            output_shape.append(input_shape[i])
    if left_elided:
        input_dim_map = {dim: (i + elided) - len(input_shape) for i, dim in enumerate(input_spec)}
        output_dim_map = {dim: i + elided for i, dim in enumerate(output_spec)}
    else:
        input_dim_map = {dim: i for i, dim in enumerate(input_spec)}
        output_dim_map = {dim: i for i, dim in enumerate(output_spec)}
    if len(output_shape) != len(output_spec) + max(elided, 0):
        raise ValueError(
            f'Layer "{layer.name}": `output_shape` {tuple(output_shape[1:])} does not match the '
            f"output term '{output_spec}' of equation '{equation}' (it should list every output "
            "dimension except the batch one)."
        )
    for dim in input_spec:
        in_size = input_shape[input_dim_map[dim]]
        if dim in output_dim_map:
            out_size = output_shape[output_dim_map[dim]]
            if out_size is not None and in_size is not None and out_size != in_size:
                raise ValueError(
                    "Input shape and output shape do not match at shared "
                    f"dimension '{dim}'. Input shape is {in_size}, and output shape is {out_size} "
                    f'(layer "{layer.name}").'
                )
    for dim in output_spec:
        if dim not in input_spec and dim not in weight_spec:
            raise ValueError(
                f"Dimension '{dim}' was specified in the output '{output_spec}' but has no "
                f"corresponding dim in the input spec '{input_spec}' or weight spec "
                f'\'{weight_spec}\' (layer "{layer.name}").'
            )
    weight_shape, input_axes, output_axes = [], [], []
    for i, dim in enumerate(weight_spec):
        if dim in output_dim_map:
            weight_shape.append(output_shape[output_dim_map[dim]])
            output_axes.append(i)
        elif dim in input_dim_map:
            weight_shape.append(input_shape[input_dim_map[dim]])
            input_axes.append(i)
        else:
            raise ValueError(
                f"Weight dimension '{dim}' did not have a match in either the input spec "
                f"'{input_spec}' or the output spec '{output_spec}'. For this layer, the weight "
                f'must be fully specified (layer "{layer.name}").'
            )
    if bias_axes is not None:
        num_left_elided = elided if left_elided else 0
        idx_map = {char: output_shape[i + num_left_elided] for i, char in enumerate(output_spec)}
        for char in bias_axes:
            if char not in output_spec:
                raise ValueError(
                    f"Bias dimension '{char}' was requested, but is not part of the output spec "
                    f'\'{output_spec}\' (layer "{layer.name}").'
                )
        first = min(output_spec.find(char) for char in bias_axes)
        bias_shape = [idx_map[c] if c in bias_axes else 1 for c in output_spec[first:]]
        if not left_elided:
            bias_shape.extend([1] * max(elided, 0))
    else:
        bias_shape = None
    return weight_shape, bias_shape, output_shape, input_axes, output_axes
