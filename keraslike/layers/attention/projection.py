"""The projections inside MultiHeadAttention: Keras's `EinsumDense` sublayers, stored like `nn.Linear`.

Keras's MultiHeadAttention projects with `EinsumDense` sublayers whose kernels contract the
trailing axes of the input: `query`/`key`/`value` kernels are `(dim, num_heads, head_dim)` and
the `attention_output` kernel is `(num_heads, head_dim, *output_shape)`. Each is a plain matrix
once its contracted and produced axes are flattened, so it is stored as an `nn.Linear`-style
`weight (out_units, in_units)` and `bias (out_units,)` and applied with one `F.linear`; only the
activations are reshaped (views), never the weights.

`quantize(mode)` (and a quantized dtype policy) reuse EinsumDense's quantization
(`EinsumQuantizationMixin`): the layer carries the einsum equation Keras's MultiHeadAttention
gives the same sublayer, so the quantized weights' names, shapes, order and scales are Keras's.
Once quantized it computes as EinsumDense does (the float path keeps `F.linear`).
"""

import math

import torch.nn.functional as F

import torch

from keraslike import initializers
from keraslike.layers.einsum_dense import with_fan_axes
from keraslike.layers.layer import Layer
from keraslike.layers.lora import LoraMixin
from keraslike.layers.quantized_einsum import EinsumQuantizationMixin
from keraslike.layers.weight_layout import IDENTITY, Layout


class FlatKernelLayout(Layout):
    """Keras `(*in_shape, *out_shape)` kernel <-> torch `(prod(out_shape), prod(in_shape))`."""

    def __init__(self, in_shape, out_shape):
        self.in_shape = tuple(in_shape)
        self.out_shape = tuple(out_shape)
        self.in_units = math.prod(self.in_shape)
        self.out_units = math.prod(self.out_shape)

    def to_torch(self, keras_value):
        return keras_value.reshape(self.in_units, self.out_units).t()

    def to_keras(self, torch_value):
        return torch_value.t().reshape(self.in_shape + self.out_shape)

    def keras_shape(self, torch_shape):
        return self.in_shape + self.out_shape


class FlatBiasLayout(Layout):
    """Keras `out_shape` bias <-> torch `(prod(out_shape),)`."""

    def __init__(self, out_shape):
        self.out_shape = tuple(out_shape)

    def to_torch(self, keras_value):
        return keras_value.reshape(-1)

    def to_keras(self, torch_value):
        return torch_value.reshape(self.out_shape)

    def keras_shape(self, torch_shape):
        return self.out_shape


def refuse_quantized_policy(layer, keras_class_name):
    """Raises Keras's NotImplementedError for an attention layer with a quantized dtype policy.

    Keras 3.15.1 has no quantized call for MultiHeadAttention or GroupedQueryAttention itself
    (`dtype="int8_from_float32"` fails at the first call); `model.quantize` quantizes their
    projections instead.
    """
    mode = layer.quantization_mode
    if mode is not None:
        raise NotImplementedError(
            f"Layer {keras_class_name} does not have a `_{mode}_call` method implemented "
            f'(layer "{layer.name}", dtype policy "{layer.dtype_policy.name}"). Quantize the '
            "model with `model.quantize(mode)` instead, which quantizes the projections."
        )


def projection_equation(free_dims, bound_dims, output_dims):
    """The einsum equation Keras's MultiHeadAttention gives a projection (`_build_proj_equation`).

    `free_dims` leading input axes pass through, `bound_dims` are contracted with the kernel's
    first axes and `output_dims` come from the kernel's last axes (e.g. `"abc,cde->abde"`).
    """
    letters = "abcdefghijklmnopqrstuvwxyz"
    free = letters[:free_dims]
    bound = letters[free_dims:free_dims + bound_dims]
    out = letters[free_dims + bound_dims:free_dims + bound_dims + output_dims]
    return f"{free}{bound},{bound}{out}->{free}{out}"


class HeadProjection(EinsumQuantizationMixin, LoraMixin, Layer):
    """Contracts the last `len(in_shape)` axes of its input into `out_shape` (Keras's EinsumDense).

    Args:
        in_shape: Sizes of the contracted trailing input axes (`(dim,)` or `(heads, head_dim)`).
        out_shape: Sizes of the produced trailing axes.
        use_bias: Whether to add a bias of shape `out_shape`.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        kernel_constraint, bias_constraint: As for `Dense`.
        activation: Optional callable applied to the output (the gate uses `sigmoid`).

    Quantization: `quantize(mode)` as `EinsumDense.quantize` (int8, int4, float8, gptq, awq),
    with the equation Keras's MultiHeadAttention uses for this sublayer at this input rank.
    """

    _quantize_type_name = "HeadProjection"

    def __init__(
        self,
        in_shape,
        out_shape,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        activation=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.in_shape = tuple(in_shape)
        self.out_shape = tuple(out_shape)
        self.use_bias = use_bias
        n_in, n_out = len(self.in_shape), len(self.out_shape)
        self.kernel_initializer = with_fan_axes(
            initializers.get(kernel_initializer),
            list(range(n_in)),
            list(range(n_in, n_in + n_out)),
        )
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = kernel_regularizer
        self.bias_regularizer = bias_regularizer
        self.kernel_constraint = kernel_constraint
        self.bias_constraint = bias_constraint
        self.activation = activation
        self._act = activation
        self._init_lora(None, None)
        self.quantization_config = None
        self.gptq_unpacked_column_size = None
        self.equation = None

    def build(self, input_shape=None):
        rank = len(input_shape) if input_shape is not None else len(self.in_shape) + 2
        self.equation = projection_equation(
            rank - len(self.in_shape), len(self.in_shape), len(self.out_shape)
        )
        kernel_shape = self.in_shape + self.out_shape
        if self.quantization_mode is not None and self._build_quantized_from_policy(kernel_shape):
            self._add_bias(keras_layout=True)
            self.built = True
            return
        self.add_weight(
            shape=self.in_shape + self.out_shape,
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            name="kernel",
            torch_name="weight",
            layout=FlatKernelLayout(self.in_shape, self.out_shape),
        )
        self._add_bias(keras_layout=self._quant_mode is not None)
        self.built = True

    def _add_bias(self, keras_layout):
        # Quantized, the layer computes as EinsumDense does, with the bias in Keras's shape.
        if self.use_bias:
            self.add_weight(
                shape=self.out_shape,
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                name="bias",
                **({} if keras_layout else {"layout": FlatBiasLayout(self.out_shape)}),
            )
        else:
            self.bias = None

    def quantize(self, mode=None, type_check=True, config=None):
        """Quantizes the layer in place, as `EinsumDense.quantize` (same modes and arguments)."""
        super().quantize(mode, type_check=type_check, config=config)
        spec = next((s for s in self._weight_specs if s.name == "bias"), None)
        if spec is not None and isinstance(spec.layout, FlatBiasLayout):
            # The quantized call adds the bias as EinsumDense does: in Keras's shape.
            self.bias.data = self.bias.data.reshape(self.out_shape)
            spec.layout = IDENTITY

    @property
    def kernel(self):
        """The kernel in Keras's layout `(*in_shape, *out_shape)`."""
        return self._kernel_property()

    def _einsum(self, x, kernel):
        # The float8 contraction over the stored `(out_units, in_units)` kernel.
        return self._linear(x, kernel, None)

    def _linear(self, inputs, weight, bias):
        if len(self.in_shape) > 1:
            inputs = inputs.flatten(-len(self.in_shape))
        outputs = F.linear(inputs, weight, bias)
        if len(self.out_shape) > 1:
            outputs = outputs.unflatten(-1, self.out_shape)
        return outputs

    def call(self, inputs, training=None):
        if self._quant_mode is not None:
            return self._quantized_call(inputs, training)
        outputs = self._linear(inputs, self.weight, self.bias)
        if self.lora_enabled:  # `enable_lora` on the sublayer, as on Keras's EinsumDense
            lora = torch.einsum(self.equation, inputs, self.lora_kernel_a)
            outputs = outputs + self._lora_scale * torch.matmul(lora, self.lora_kernel_b)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[: len(input_shape) - len(self.in_shape)]) + self.out_shape
