"""Quantization configs: which quantizers `layer.quantize(mode, config=...)` uses, as Keras 3."""

from keraslike.dtype_policies import QUANTIZATION_MODES
from keraslike.quantizers.quantizers import AbsMaxQuantizer, Quantizer


def _serialize(obj):
    if obj is None:
        return None
    return {
        "module": "keras.quantizers",
        "class_name": type(obj).__name__,
        "config": obj.get_config(),
        "registered_name": None,
    }


def _deserialize(config):
    if config is None or isinstance(config, Quantizer):
        return config
    classes = {"AbsMaxQuantizer": AbsMaxQuantizer, "Quantizer": Quantizer}
    cls = classes.get(config.get("class_name"))
    if cls is None:
        raise ValueError(f"Unknown quantizer: {config.get('class_name')!r}")
    return cls.from_config(dict(config.get("config") or {}))


class QuantizationConfig:
    """Base class of quantization configs.

    Args:
        weight_quantizer: Quantizer of the weights (`None`: the mode's default).
        activation_quantizer: Quantizer of the inputs (`None`: none).
    """

    def __init__(self, weight_quantizer=None, activation_quantizer=None):
        self.weight_quantizer = weight_quantizer
        self.activation_quantizer = activation_quantizer

    @property
    def mode(self):
        raise NotImplementedError(
            "Subclasses must implement this property. Do not instantiate QuantizationConfig "
            "directly."
        )

    def get_config(self):
        return {
            "weight_quantizer": _serialize(self.weight_quantizer),
            "activation_quantizer": _serialize(self.activation_quantizer),
        }

    @classmethod
    def from_config(cls, config):
        return cls(
            weight_quantizer=_deserialize(config.get("weight_quantizer")),
            activation_quantizer=_deserialize(config.get("activation_quantizer")),
        )

    @staticmethod
    def weight_quantizer_or_default(config, default):
        if config is not None and config.weight_quantizer is not None:
            return config.weight_quantizer
        return default

    @staticmethod
    def activation_quantizer_or_default(config, default):
        if config is not None:
            return config.activation_quantizer
        return default


class Int8QuantizationConfig(QuantizationConfig):
    """Int8 quantization: int8 weights per output channel, int8 inputs per row by default.

    Args:
        weight_quantizer: Quantizer of the weights (must output int8).
        activation_quantizer: Quantizer of the inputs; `"default"` is `AbsMaxQuantizer()`
            (dynamic per-row int8), `None` for weight-only int8.
    """

    def __init__(self, weight_quantizer=None, activation_quantizer="default"):
        if activation_quantizer == "default":
            activation_quantizer = AbsMaxQuantizer()
        super().__init__(weight_quantizer, activation_quantizer)
        if self.weight_quantizer is not None and self.weight_quantizer.output_dtype != "int8":
            raise ValueError(
                "Int8QuantizationConfig requires a weight_quantizer with output_dtype='int8'. "
                f"Received: output_dtype={self.weight_quantizer.output_dtype}"
            )

    @property
    def mode(self):
        return "int8"


class Int4QuantizationConfig(QuantizationConfig):
    """Int4 quantization: weights packed two per byte.

    Args:
        weight_quantizer: Quantizer of the weights (value range `(-8, 7)`, int8 output).
        activation_quantizer: Quantizer of the inputs (`"default"`: none).
        block_size: Inputs per group for sub-channel (asymmetric) quantization (128); `None`
            or `-1` for one scale per output channel.
    """

    def __init__(self, weight_quantizer=None, activation_quantizer="default", block_size=128):
        if activation_quantizer == "default":
            activation_quantizer = None
        super().__init__(weight_quantizer, activation_quantizer)
        if block_size is not None and block_size != -1 and block_size <= 0:
            raise ValueError(
                "block_size must be None, -1, or a positive integer. "
                f"Received: block_size={block_size}"
            )
        self.block_size = block_size
        sub_channel = block_size is not None and block_size > 0
        if sub_channel and (self.weight_quantizer is not None or self.activation_quantizer is not None):
            raise ValueError(
                "Int4 sub-channel quantization (block_size > 0) does not support custom "
                "quantizers. Either set block_size to None or -1 for per-channel quantization, "
                f"or remove the custom quantizer arguments. Received: block_size={block_size}"
            )
        if self.weight_quantizer is not None:
            if tuple(self.weight_quantizer.value_range) != (-8, 7):
                raise ValueError(
                    "Int4QuantizationConfig requires a weight_quantizer with value_range=(-8, 7). "
                    f"Received: value_range={self.weight_quantizer.value_range}"
                )
            if self.weight_quantizer.output_dtype != "int8":
                raise ValueError(
                    "Int4QuantizationConfig requires a weight_quantizer with output_dtype='int8'. "
                    f"Received: output_dtype={self.weight_quantizer.output_dtype}"
                )

    @property
    def mode(self):
        return "int4"

    def get_config(self):
        config = super().get_config()
        config["block_size"] = self.block_size
        return config

    @classmethod
    def from_config(cls, config):
        return cls(
            weight_quantizer=_deserialize(config.get("weight_quantizer")),
            activation_quantizer=_deserialize(config.get("activation_quantizer")),
            block_size=config.get("block_size", None),
        )


class Float8QuantizationConfig(QuantizationConfig):
    """Float8 training (delayed scaling with an amax history); takes no custom quantizers."""

    def __init__(self):
        super().__init__(None, None)

    @property
    def mode(self):
        return "float8"

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls()


class _CalibratedConfig(QuantizationConfig):
    """GPTQ/AWQ configs: the calibration's settings, serialized without dataset and tokenizer."""

    _mode = None

    @property
    def mode(self):
        return self._mode

    def dtype_policy_string(self):
        """The policy mode these settings give: `"<mode>/<weight_bits>/<group_size>"`."""
        return f"{self._mode}/{self.weight_bits}/{self.group_size}"

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class GPTQConfig(_CalibratedConfig):
    """Settings of GPTQ quantization (Keras's names and checks).

    `model.quantize("gptq", config=GPTQConfig(...))` calibrates the model's Dense/EinsumDense
    layers block by block (`keraslike/quantizers/gptq_core.py`).
    """

    _mode = "gptq"

    def __init__(
        self,
        dataset,
        tokenizer,
        *,
        weight_bits=4,
        num_samples=128,
        per_channel=True,
        sequence_length=512,
        hessian_damping=0.01,
        group_size=128,
        symmetric=False,
        activation_order=False,
        quantization_layer_structure=None,
    ):
        super().__init__()
        if weight_bits not in (2, 3, 4, 8):
            raise ValueError(
                f"Unsupported weight_bits {weight_bits}. Supported values are 2, 3, 4, and 8."
            )
        _check_common(num_samples, sequence_length, group_size)
        if hessian_damping < 0 or hessian_damping > 1:
            raise ValueError("hessian_damping must be between 0 and 1.")
        self.dataset, self.tokenizer = dataset, tokenizer
        self.weight_bits, self.num_samples = weight_bits, num_samples
        self.per_channel, self.sequence_length = per_channel, sequence_length
        self.hessian_damping, self.group_size = hessian_damping, group_size
        self.symmetric, self.activation_order = symmetric, activation_order
        self.quantization_layer_structure = quantization_layer_structure

    def get_config(self):
        return {
            "dataset": None,
            "tokenizer": None,
            "weight_bits": self.weight_bits,
            "num_samples": self.num_samples,
            "per_channel": self.per_channel,
            "sequence_length": self.sequence_length,
            "hessian_damping": self.hessian_damping,
            "group_size": self.group_size,
            "symmetric": self.symmetric,
            "activation_order": self.activation_order,
            # The structure holds layers (Keras writes them and recurses forever when a layer's
            # config is saved); it only steers the calibration, so it is not written.
            "quantization_layer_structure": None,
        }


class AWQConfig(_CalibratedConfig):
    """Settings of AWQ quantization (Keras's names and checks; 4-bit only).

    `model.quantize("awq", config=AWQConfig(...))` calibrates the model's Dense/EinsumDense
    layers block by block (`keraslike/quantizers/awq_core.py`).
    """

    _mode = "awq"

    def __init__(
        self,
        dataset,
        tokenizer,
        *,
        weight_bits=4,
        num_samples=128,
        sequence_length=512,
        group_size=128,
        num_grid_points=20,
        quantization_layer_structure=None,
    ):
        super().__init__()
        if weight_bits != 4:
            raise ValueError(
                f"AWQ only supports 4-bit quantization. Received weight_bits={weight_bits}."
            )
        _check_common(num_samples, sequence_length, group_size)
        if num_grid_points <= 0:
            raise ValueError("num_grid_points must be a positive integer.")
        self.dataset, self.tokenizer = dataset, tokenizer
        self.weight_bits, self.num_samples = weight_bits, num_samples
        self.sequence_length, self.group_size = sequence_length, group_size
        self.num_grid_points = num_grid_points
        self.quantization_layer_structure = quantization_layer_structure

    def get_config(self):
        return {
            "dataset": None,
            "tokenizer": None,
            "weight_bits": self.weight_bits,
            "num_samples": self.num_samples,
            "sequence_length": self.sequence_length,
            "group_size": self.group_size,
            "num_grid_points": self.num_grid_points,
            # The structure holds layers (Keras writes them and recurses forever when a layer's
            # config is saved); it only steers the calibration, so it is not written.
            "quantization_layer_structure": None,
        }


def _check_common(num_samples, sequence_length, group_size):
    if num_samples <= 0:
        raise ValueError("num_samples must be a positive integer.")
    if sequence_length <= 0:
        raise ValueError("sequence_length must be a positive integer.")
    if group_size < -1 or group_size == 0:
        raise ValueError(
            "Invalid group_size. Supported values are -1 (per-channel) or a positive integer, "
            f"but got {group_size}."
        )


def validate_and_resolve_config(mode, config):
    """The config `quantize(mode, config)` uses: the given one checked, or the mode's default.

    Raises:
        ValueError: For an unknown mode, a missing config for GPTQ/AWQ, a config that is not a
            `QuantizationConfig`, or a mode that contradicts the config's.
    """
    if isinstance(config, str):
        mode, config = config, None
    _validate_mode(mode)
    if config is None:
        defaults = {
            "int8": Int8QuantizationConfig,
            "int4": Int4QuantizationConfig,
            "float8": Float8QuantizationConfig,
        }
        if mode in ("gptq", "awq"):
            raise ValueError(
                f"For {mode.upper()}, you must pass a `{mode.upper()}Config` object in the "
                "`config` argument."
            )
        if mode is None:
            raise ValueError("You must provide either `mode` or `config` to `quantize`.")
        config = defaults[mode]()
    elif not isinstance(config, QuantizationConfig):
        raise ValueError(
            "Argument `config` must be an instance of `QuantizationConfig`. "
            f"Received: config={config} (of type {type(config)})"
        )
    if mode is not None and config.mode != mode:
        raise ValueError(
            f"Contradictory arguments: mode='{mode}' but config.mode='{config.mode}'"
        )
    return config


def _validate_mode(mode):
    if mode is not None and mode not in QUANTIZATION_MODES:
        raise ValueError(
            f"Invalid quantization mode. Expected one of {QUANTIZATION_MODES}. Received: mode={mode}"
        )
