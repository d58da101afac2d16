"""Core layers: Dense, Activation, Identity, Embedding, Lambda."""

import inspect

import torch
import torch.nn.functional as F

from keraslike import activations, constraints, initializers, ops, quantizers, regularizers
from keraslike.backend.errors import ArgumentTypeError
from keraslike.graph import nest
from keraslike.graph.keras_tensor import KerasTensor
from keraslike.graph.shape_inference import infer_output_spec
from keraslike.layers.input_spec import InputSpec
from keraslike.layers.layer_utils import is_elementwise_activation
from keraslike.layers.layer import Layer
from keraslike.layers.lora import LoraMixin, lora_config
from keraslike.layers.quantized_dense import DenseQuantizationMixin
from keraslike.layers.quantized_embedding import EmbeddingQuantizationMixin
from keraslike.layers.weight_layout import TRANSPOSED
from keraslike.layers.layer_utils import serialize_or_none as _serialize
from keraslike.serialization.keras_objects import deserialize_keras_object, serialize_keras_object


class Dense(DenseQuantizationMixin, LoraMixin, Layer):
    """A densely connected layer: `activation(inputs @ kernel + bias)`.

    The kernel is stored like `nn.Linear`'s `weight`, shape `(units, input_dim)`; `layer.kernel`
    and `get_weights()` give Keras's `(input_dim, units)`.

    Args:
        units: Positive integer, the output size.
        activation: Activation name or function (default: none, i.e. linear).
        use_bias: Whether to add a bias.
        kernel_initializer: Initializer of the kernel (`"glorot_uniform"`).
        bias_initializer: Initializer of the bias (`"zeros"`).
        kernel_regularizer, bias_regularizer: Optional weight penalties.
        activity_regularizer: Optional penalty on the output.
        kernel_constraint, bias_constraint: Optional weight constraints.
        lora_rank: Optional integer: when set, the layer is built with LoRA adapters of that
            rank (see `enable_lora`); the base kernel is then frozen.
        lora_alpha: Optional LoRA scale numerator (the update is scaled by
            `lora_alpha / lora_rank`; defaults to `lora_rank`).
        quantization_config: Optional `keras.quantizers.QuantizationConfig` of a layer built
            with a quantized dtype policy (e.g. `dtype="int8_from_float32"`); see `quantize`.

    Input shape:
        `(batch_size, ..., input_dim)`, any rank >= 2.

    Output shape:
        `(batch_size, ..., units)`.

    Example:

    ```python
    x = keras.Input(shape=(16,))
    y = keras.layers.Dense(32, activation="relu")(x)  # y.shape == (None, 32)
    ```
    """

    activation = activations.LayerActivation()  # assigning it also sets `_act`, which call applies

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        lora_rank=None,
        lora_alpha=None,
        quantization_config=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(
                "Received an invalid value for `units`, expected a positive integer. "
                f"Received: units={units}"
            )
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self._init_lora(lora_rank, lora_alpha)
        if isinstance(quantization_config, dict):
            quantization_config = quantizers.deserialize(quantization_config)
        self.quantization_config = quantization_config
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True
        self._act = activations.runtime_form(self.activation)

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                f'The last dimension of the input of layer "{self.name}" must be defined. '
                f"Received: input_shape={tuple(input_shape)}"
            )
        mode = self.quantization_mode
        if mode == "float8":
            self._float8_build()  # before the kernel, so the weights' order is Keras's
        if not (mode in ("int8", "int4", "gptq", "awq") and self._build_quantized_from_policy(
            (input_dim, self.units)
        )):
            self.add_weight(
                shape=(input_dim, self.units),
                initializer=self.kernel_initializer,
                regularizer=self.kernel_regularizer,
                constraint=self.kernel_constraint,
                name="kernel",
                torch_name="weight",
                layout=TRANSPOSED,
            )
        self._quant_mode = mode
        if self.use_bias:
            self.add_weight(
                shape=(self.units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                name="bias",
            )
        else:
            self.bias = None
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim})
        self.built = True
        self._maybe_enable_lora()

    @property
    def kernel(self):
        """The kernel in Keras's layout `(input_dim, units)`, LoRA update merged in."""
        return self._kernel_property()

    def call(self, inputs, training=None):
        if self._quant_mode is not None:
            return self._quantized_call(inputs, training)
        outputs = F.linear(inputs, self.weight, self.bias)
        if self.lora_enabled:
            # (x @ A) @ B: the rank-r path, never the merged (in, units) kernel.
            delta = torch.matmul(torch.matmul(inputs, self.lora_kernel_a), self.lora_kernel_b)
            outputs = outputs + self._lora_scale * delta
        if self._act is not None:
            outputs = self._act(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": _serialize(regularizers, self.kernel_regularizer),
                "bias_regularizer": _serialize(regularizers, self.bias_regularizer),
                "kernel_constraint": _serialize(constraints, self.kernel_constraint),
                "bias_constraint": _serialize(constraints, self.bias_constraint),
                "quantization_config": quantizers.serialize(self.quantization_config),
            }
        )
        return lora_config(self, config)


class Activation(Layer):
    """Applies an activation function to its input.

    Args:
        activation: Activation name (`"relu"`, `"softmax"`, ...) or function.

    Input shape:
        Any. Output shape: same as the input.
    """

    _keras_build_at_init = True  # built in __init__, as in Keras: no build_config

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.activation = activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs)

    _layout_free = True  # graph/layout.py: element by element, any layout (when elementwise)

    def _channels_first_call(self, rank):
        return self._call_channels_first if is_elementwise_activation(self.activation) else None

    def _call_channels_first(self, x):
        if not is_elementwise_activation(self.activation):  # reassigned since the plan compiled
            return self.activation(x.movedim(1, -1)).movedim(-1, 1)
        return self.activation(x)

    def _fusion_form(self):
        # What `call` computes, for graph/fusion.py's elementwise rules (re-read per call).
        if self.activation is activations.hard_sigmoid:
            return ("hard_sigmoid",)
        if self.activation is activations.relu6:
            return ("relu", 0.0, 6.0, 0.0)
        return None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


class Identity(Layer):
    """Returns its input unchanged (a placeholder layer)."""

    _keras_build_at_init = True  # built in __init__, as in Keras: no build_config

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape


class Embedding(EmbeddingQuantizationMixin, LoraMixin, Layer):
    """Turns non-negative integer indices into dense vectors of fixed size.

    The table is stored like `nn.Embedding`'s `weight`, shape `(input_dim, output_dim)`, which is
    also Keras's layout of `embeddings`.

    Args:
        input_dim: Size of the vocabulary (maximum index + 1).
        output_dim: Size of each vector.
        embeddings_initializer: Initializer of the table (`"uniform"`, i.e. U(-0.05, 0.05)).
        embeddings_regularizer: Optional penalty on the table.
        embeddings_constraint: Optional constraint on the table.
        mask_zero: Whether index 0 is padding; when true the layer outputs a mask (`inputs != 0`).
        lora_rank: Optional integer: when set, the layer is built with LoRA adapters
            `lora_embeddings_a` `(input_dim, rank)` and `lora_embeddings_b` `(rank, output_dim)`
            and the table is frozen (see `enable_lora`).
        lora_alpha: Optional LoRA scale numerator (defaults to `lora_rank`).

    Input shape:
        `(batch_size, ...)` integer indices (float inputs are cast to integers, as in Keras).

    Output shape:
        `(batch_size, ..., output_dim)`.
    """

    _casts_own_mixed_outputs = True  # Keras turns its autocast off and casts its outputs

    def __init__(
        self,
        input_dim,
        output_dim,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero=False,
        weights=None,
        lora_rank=None,
        lora_alpha=None,
        quantization_config=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for arg, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(
                    f"Received an invalid value for `{arg}`, expected a positive integer. "
                    f"Received: {arg}={value}"
                )
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = mask_zero
        self.supports_masking = mask_zero
        self.autocast = False  # as Keras: integer indices are not cast (outputs are)
        self._initial_weights = weights
        self._init_lora(lora_rank, lora_alpha)
        if isinstance(quantization_config, dict):
            quantization_config = quantizers.deserialize(quantization_config)
        self.quantization_config = quantization_config

    _lora_base_name = "embeddings"
    _lora_adapter_names = ("lora_embeddings_a", "lora_embeddings_b")

    def build(self, input_shape=None):
        if self.quantization_mode is not None:
            self._build_quantized_from_policy()
        else:
            self.add_weight(
                shape=(self.input_dim, self.output_dim),
                initializer=self.embeddings_initializer,
                regularizer=self.embeddings_regularizer,
                constraint=self.embeddings_constraint,
                name="embeddings",
                torch_name="weight",
            )
        self.built = True
        self._maybe_enable_lora()
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    @property
    def embeddings(self):
        """The table `(input_dim, output_dim)`, LoRA update merged in."""
        return self._kernel_property()

    def call(self, inputs):
        if inputs.dtype not in (torch.int32, torch.int64):
            inputs = inputs.to(torch.int64)
        if self._quant_mode is not None:
            return self._quantized_call(inputs)
        outputs = F.embedding(inputs, self.weight)
        if self.lora_enabled:
            # Look up the rank-r rows of A, then project: never the merged table.
            delta = torch.matmul(F.embedding(inputs, self.lora_embeddings_a), self.lora_embeddings_b)
            outputs = outputs + self._lora_scale * delta
        return outputs

    def compute_mask(self, inputs, previous_mask=None):
        if not self.mask_zero:
            return None
        return torch.ne(inputs, 0)  # torch.ne also records a node on symbolic inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "input_dim": self.input_dim,
                "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": _serialize(regularizers, self.embeddings_regularizer),
                "activity_regularizer": _serialize(regularizers, self.activity_regularizer),
                "embeddings_constraint": _serialize(constraints, self.embeddings_constraint),
                "mask_zero": self.mask_zero,
                "quantization_config": quantizers.serialize(self.quantization_config),
            }
        )
        return lora_config(self, config)


class Lambda(Layer):
    """Wraps a function of tensors as a layer.

    The function runs on torch tensors (use torch ops or `keras.ops`). A Lambda holding a Python
    function cannot be serialized safely: saving records it, and loading refuses it unless
    `safe_mode=False` (even then, only a registered function is looked up by name).

    Args:
        function: The function, called as `function(inputs, **arguments)`.
        output_shape: Optional output shape (without batch), or a function of the input shape.
            By default the shape is found by running the function on shape-only tensors.
        mask: Optional output mask, or a function `(inputs, mask) -> mask`.
        arguments: Optional dict of keyword arguments for `function`.
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise ArgumentTypeError(  # a TypeError, as Keras's
                f'Argument `function` of layer "{self.name}" (Lambda) must be callable. '
                f"Received: {function!r}"
            )
        if not (output_shape is None or callable(output_shape) or isinstance(output_shape, (tuple, list))):
            raise ArgumentTypeError(  # Keras fails at the call ("can only concatenate tuple")
                f'Argument `output_shape` of layer "{self.name}" (Lambda) must be a shape tuple, '
                f"a list of them or a function of the input shape. Received: {output_shape!r}"
            )
        self.function = function
        self._output_shape = output_shape
        self.mask = mask
        self.arguments = dict(arguments or {})
        self.supports_masking = mask is not None
        parameters = _parameter_names(function)
        self._fn_expects_mask_arg = "mask" in parameters
        self._fn_expects_training_arg = "training" in parameters

    def call(self, inputs, mask=None, training=None):
        # As Keras: `mask` and `training` reach the function when it names them.
        kwargs = dict(self.arguments)
        if self._fn_expects_mask_arg:
            kwargs["mask"] = mask
        if self._fn_expects_training_arg:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_output_shape(self, input_shape):
        """The `output_shape` given (with the batch dimension added), the result of a callable
        `output_shape`, or else the shape found by running the function on shape-only tensors."""
        if self._output_shape is None:
            specs = self.compute_output_spec(_symbolic_from_shapes(input_shape, self.compute_dtype))
            return nest.map_structure(lambda spec: spec.shape, specs)
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        batch = _first_dim(input_shape)
        return _map_shapes(lambda shape: (batch,) + tuple(shape), self._output_shape)

    def compute_output_spec(self, *args, **kwargs):
        if self._output_shape is None:  # run the function itself: its output dtype is kept
            return infer_output_spec(self.__call__, args, kwargs, module=self, description=f'layer "{self.name}"')
        shape = self.compute_output_shape(_map_shapes(lambda t: tuple(t.shape), args[0], leaf=KerasTensor))
        return _map_shapes(lambda s: KerasTensor(tuple(s), dtype=self.compute_dtype), shape)

    def compute_mask(self, inputs, previous_mask=None):
        if callable(self.mask):
            return self.mask(inputs, previous_mask)
        return self.mask

    def get_config(self):
        config = super().get_config()
        config["function"] = _function_config(self.function)
        if self._output_shape is not None:
            config["output_shape"] = (
                _function_config(self._output_shape) if callable(self._output_shape)
                else tuple(self._output_shape)
            )
        if self.mask is not None:
            config["mask"] = (
                _function_config(self.mask) if callable(self.mask) else serialize_keras_object(self.mask)
            )
        config["arguments"] = self.arguments
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=None):
        """Rebuilds a Lambda from `get_config()` output.

        A named function (Keras's `{"class_name": "function", "config": "square", ...}`) is
        looked up by name in `custom_objects`, `keras.ops` and `keras.activations`; a Python
        `lambda` is refused (Keras stores its bytecode, which keraslike never loads).

        Raises:
            ValueError: For a serialized Python `lambda`.
            TypeError: When no function has that name.
        """
        config = dict(config)
        for key in ("function", "output_shape", "mask"):
            value = config.get(key)
            if isinstance(value, dict) and value.get("class_name") in ("function", "__lambda__"):
                config[key] = _function_from_config(value, custom_objects)
            elif key == "mask" and isinstance(value, (dict, list)):
                config[key] = deserialize_keras_object(value, custom_objects)
        if isinstance(config.get("output_shape"), list):
            config["output_shape"] = tuple(config["output_shape"])
        return cls(**config)


def _is_shape(value):
    return isinstance(value, (list, tuple)) and all(d is None or isinstance(d, int) for d in value)


def _map_shapes(fn, structure, leaf=None):
    """Applies `fn` to each shape (a tuple of ints/None) of a nested structure, or to each
    instance of `leaf` when given."""
    if (leaf is not None and isinstance(structure, leaf)) or (leaf is None and _is_shape(structure)):
        return fn(structure)
    if isinstance(structure, dict):
        return {k: _map_shapes(fn, v, leaf) for k, v in structure.items()}
    return type(structure)(_map_shapes(fn, v, leaf) for v in structure)


def _first_dim(shapes):
    while not _is_shape(shapes):
        shapes = next(iter(shapes.values())) if isinstance(shapes, dict) else shapes[0]
    return shapes[0] if shapes else None


def _symbolic_from_shapes(shapes, dtype):
    return _map_shapes(lambda shape: KerasTensor(tuple(shape), dtype=dtype), shapes)


def _parameter_names(function):
    try:
        return set(inspect.signature(function).parameters)
    except (TypeError, ValueError):  # a builtin without a signature
        return set()


def _function_config(fn):
    # Keras 3's serialized form of a function (a Python lambda's code is never written).
    name = getattr(fn, "__name__", "<lambda>")
    if name == "<lambda>":
        return {"class_name": "__lambda__", "config": {"value": "<lambda>"}}
    return {"module": "builtins", "class_name": "function", "config": name, "registered_name": "function"}


def _function_from_config(fn_config, custom_objects):
    if fn_config.get("class_name") == "__lambda__":
        raise ValueError(
            "Requested the deserialization of a `Lambda` layer whose `function` is a Python "
            "lambda. This carries a potential risk of arbitrary code execution, and keraslike "
            "never loads Python bytecode from a config. Use a named function (registered with "
            "`keras.saving.register_keras_serializable()` or passed in `custom_objects`)."
        )
    name = fn_config.get("config")
    if isinstance(name, dict):
        name = name.get("value")
    for key in (fn_config.get("registered_name"), name):
        if custom_objects and key in custom_objects:
            return custom_objects[key]
    for table in (ops, activations):
        fn = getattr(table, str(name), None)
        if callable(fn):
            return fn
    raise TypeError(
        f"Could not locate function '{name}'. Make sure custom classes and functions are "
        "decorated with `@keras.saving.register_keras_serializable()`, or pass them in "
        f"`custom_objects`. Full object config: {fn_config}"
    )
