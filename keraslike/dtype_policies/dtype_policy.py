"""Dtype policies, as Keras 3 has them: the dtypes of a layer's weights and computations, and
whether (and how) its weights are quantized.

A policy is named like Keras's: `"float32"`, `"mixed_bfloat16"` (float32 weights, bfloat16
compute), `"int8_from_mixed_bfloat16"` (a layer quantized to int8 from that float policy),
`"int4/128_from_float32"` (int4 with 128-element groups), `"float8_from_float32"`.
"""

import torch

from keraslike.backend import config

QUANTIZATION_MODES = ("int8", "float8", "int4", "gptq", "awq")

_GLOBAL = {"policy": None}


def _standardize_dtype(name):
    aliases = {"float": "float32", "double": "float64", "half": "float16", "int": "int32"}
    name = aliases.get(name, name)
    if not isinstance(getattr(torch, name, None), torch.dtype):
        raise ValueError(name)
    return name


class DTypePolicy:
    """A dtype policy for a Keras layer: the dtype of its weights and of its computations.

    Args:
        name: `"float32"`, `"float16"`, `"bfloat16"`, `"mixed_float16"` (float32 weights,
            float16 compute), `"mixed_bfloat16"`, or any dtype name. Defaults to the global
            policy (`keras.config.dtype_policy()`).

    Example:

    >>> policy = keras.dtype_policies.DTypePolicy("mixed_bfloat16")
    >>> policy.compute_dtype, policy.variable_dtype
    ('bfloat16', 'float32')
    """

    def __init__(self, name=None):
        if name is None:
            name = dtype_policy().name
        self._name = name
        self._compute_dtype, self._variable_dtype = self._parse_name(name)
        self._quantization_mode = None

    def _parse_name(self, name):
        if not isinstance(name, str):
            raise TypeError(
                "'name' must be a string, such as 'mixed_float16'. "
                f"Received: name={name} (of type {type(name)})"
            )
        if name == "mixed_float16":
            return "float16", "float32"
        if name == "mixed_bfloat16":
            return "bfloat16", "float32"
        try:
            dtype = _standardize_dtype(name)
        except ValueError:
            raise ValueError(
                f"Cannot convert '{name}' to a mixed precision DTypePolicy. Valid policies "
                "include 'mixed_float16', 'mixed_bfloat16', and the name of any float dtype "
                "such as 'float32'."
            ) from None
        return dtype, dtype

    @property
    def variable_dtype(self):
        """The dtype of the layer's weights (`"float32"` for the mixed policies)."""
        return self._variable_dtype

    @property
    def compute_dtype(self):
        """The dtype of the layer's computations (`"bfloat16"` for `"mixed_bfloat16"`)."""
        return self._compute_dtype

    @property
    def name(self):
        """The policy's name."""
        return self._name

    @property
    def quantization_mode(self):
        """`"int8"`, `"int4"`, `"float8"`, ... for quantized policies, else `None`."""
        return self._quantization_mode

    def get_config(self):
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        class_name = type(self).__name__
        if class_name == "FloatDTypePolicy":
            class_name = "DTypePolicy"
        return f'<{class_name} "{self._name}">'

    def __eq__(self, other):
        if type(self) in (DTypePolicy, FloatDTypePolicy):
            if type(other) not in (DTypePolicy, FloatDTypePolicy):
                return False
        elif type(other) is not type(self):
            return False
        return self._name == other._name

    def __hash__(self):
        return hash((type(self).__name__, self._name))


class FloatDTypePolicy(DTypePolicy):
    """An alias of `DTypePolicy` (Keras keeps it for older code)."""


class QuantizedDTypePolicy(DTypePolicy):
    """The policy of a quantized layer: `"<mode>_from_<source policy>"`.

    Args:
        mode: One of `"int8"`, `"int4"`, `"float8"`, `"gptq"`, `"awq"`.
        source_name: The float policy the layer was quantized from (its compute and variable
            dtypes are the source's). Defaults to the global policy.

    Raises:
        ValueError: For an unknown mode, or int8 with a float16 compute dtype (as Keras).
    """

    def __init__(self, mode, source_name=None):
        if source_name is None:
            source_name = dtype_policy().name
        self._compute_dtype, self._variable_dtype = self._parse_name(source_name)
        self._check_quantization_mode(mode, self._compute_dtype)
        self._name = f"{mode}_from_{source_name}"
        self._source_name = source_name
        self._quantization_mode = mode

    def __eq__(self, other):
        if super().__eq__(other) is False:
            return False
        return (
            self._quantization_mode == other._quantization_mode
            and self._source_name == other._source_name
        )

    __hash__ = DTypePolicy.__hash__

    def get_config(self):
        return {"mode": self._quantization_mode, "source_name": self._source_name}

    def _check_quantization_mode(self, mode, compute_dtype):
        if mode not in QUANTIZATION_MODES:
            raise ValueError(
                f"Invalid quantization mode. Expected one of {QUANTIZATION_MODES}. "
                f"Received: mode={mode}"
            )
        if compute_dtype == "float16" and mode == "int8":
            raise ValueError(
                f"Quantization mode='{mode}' doesn't work well with compute_dtype='float16'."
            )


class QuantizedFloat8DTypePolicy(QuantizedDTypePolicy):
    """The policy of a float8-quantized layer, with the length of its amax history.

    Args:
        mode: `"float8"`.
        source_name: The float policy quantized from.
        amax_history_length: How many steps of absolute maxima the scaling looks back on
            (1024, as Keras).
    """

    default_amax_history_length = 1024

    def __init__(self, mode, source_name=None, amax_history_length=1024):
        super().__init__(mode=mode, source_name=source_name)
        if not isinstance(amax_history_length, int):
            raise TypeError(
                "`amax_history_length` must be an integer. "
                f"Received: amax_history_length={amax_history_length}"
            )
        self._amax_history_length = amax_history_length

    @property
    def amax_history_length(self):
        """The length of the amax history window used to compute float8 scales."""
        return self._amax_history_length

    def __eq__(self, other):
        if super().__eq__(other) is False:
            return False
        return self._amax_history_length == other._amax_history_length

    __hash__ = DTypePolicy.__hash__

    def get_config(self):
        config = super().get_config()
        config["amax_history_length"] = self.amax_history_length
        return config


class Int4DTypePolicy(QuantizedDTypePolicy):
    """The policy of an int4 layer with its block size: mode `"int4/<block_size>"`.

    Args:
        mode: `"int4/<block_size>"`; `-1` for one scale per output channel, a positive integer
            for groups of that many inputs.
        source_name: The float policy quantized from.

    Raises:
        ValueError: For a malformed mode or block size.
    """

    def __init__(self, mode, source_name=None):
        parts = mode.split("/")
        expected = "'int4/<block_size>'"
        if len(parts) != 2 or parts[0] != "int4":
            raise ValueError(
                f"Invalid mode for Int4DTypePolicy. Expected format {expected}, but got '{mode}'."
            )
        try:
            block_size = int(parts[1])
        except ValueError:
            raise ValueError(
                "Invalid mode for Int4DTypePolicy. <block_size> must be an integer. "
                f"Expected format {expected}, but got '{mode}'."
            ) from None
        if block_size < -1 or block_size == 0:
            raise ValueError(
                "Invalid block_size in mode. Supported values are -1 (per-channel) or a "
                f"positive integer (sub-channel), but got {block_size} from '{mode}'."
            )
        super().__init__(mode="int4", source_name=source_name)
        self._name = f"{mode}_from_{self._source_name}"
        self.mode = "int4"
        self.block_size = block_size

    def __eq__(self, other):
        if super().__eq__(other) is False:
            return False
        return self.block_size == other.block_size

    __hash__ = DTypePolicy.__hash__

    def get_config(self):
        config = super().get_config()
        config["mode"] = f"{self.mode}/{self.block_size}"
        return config


class _GroupedDTypePolicy(QuantizedDTypePolicy):
    """GPTQ/AWQ policies: mode `"<algo>/<weight_bits>/<group_size>"`."""

    _algorithm = None
    _allowed_bits = ()

    def __init__(self, mode, source_name=None):
        parts = mode.split("/")
        expected = f"'{self._algorithm}/<weight_bits>/<group_size>'"
        if len(parts) != 3 or parts[0] != self._algorithm:
            raise ValueError(
                f"Invalid mode for {type(self).__name__}. Expected format {expected}, but got "
                f"'{mode}'."
            )
        try:
            weight_bits, group_size = int(parts[1]), int(parts[2])
        except ValueError:
            raise ValueError(
                f"Invalid mode for {type(self).__name__}. <weight_bits> and <group_size> must "
                f"be integers. Expected format {expected}, but got '{mode}'."
            ) from None
        if weight_bits not in self._allowed_bits:
            raise ValueError(
                f"Invalid weight_bits in mode. {type(self).__name__} supports "
                f"{list(self._allowed_bits)}, but got {weight_bits} from '{mode}'."
            )
        if group_size < -1 or group_size == 0:
            raise ValueError(
                "Invalid group_size in mode. Supported values are -1 (per-channel) or a "
                f"positive integer, but got {group_size} from '{mode}'."
            )
        super().__init__(mode=self._algorithm, source_name=source_name)
        self._name = f"{mode}_from_{self._source_name}"
        self.mode = self._algorithm
        self.weight_bits = weight_bits
        self.group_size = group_size

    def __eq__(self, other):
        if super().__eq__(other) is False:
            return False
        return (self.weight_bits, self.group_size) == (other.weight_bits, other.group_size)

    __hash__ = DTypePolicy.__hash__

    def get_config(self):
        config = super().get_config()
        config["mode"] = f"{self.mode}/{self.weight_bits}/{self.group_size}"
        return config


class GPTQDTypePolicy(_GroupedDTypePolicy):
    """The policy of a GPTQ-quantized layer: mode `"gptq/<weight_bits>/<group_size>"`.

    A layer built with it holds GPTQ's quantized weights (see `model.quantize("gptq")`).
    """

    _algorithm = "gptq"
    _allowed_bits = (2, 3, 4, 8)


class AWQDTypePolicy(_GroupedDTypePolicy):
    """The policy of an AWQ-quantized layer: mode `"awq/<weight_bits>/<group_size>"`.

    A layer built with it holds AWQ's quantized weights (see `model.quantize("awq")`).
    """

    _algorithm = "awq"
    _allowed_bits = (4,)


def set_dtype_policy(policy):
    """Sets the default dtype policy of layers created from now on.

    Args:
        policy: A policy name (`"mixed_bfloat16"`, `"float32"`, `"int8_from_float32"`) or a
            `DTypePolicy`.

    Raises:
        ValueError: For anything else.
    """
    if not isinstance(policy, DTypePolicy):
        if not isinstance(policy, str):
            raise ValueError(
                "Invalid `policy` argument. Expected the string name of a policy (such as "
                f"'mixed_float16') or a `DTypePolicy` instance. Received: policy={policy} "
                f"(of type {type(policy)})"
            )
        policy = policy_from_name(policy)
    _GLOBAL["policy"] = policy


def dtype_policy():
    """Returns the default dtype policy (a `DTypePolicy` of `floatx()` when none was set)."""
    policy = _GLOBAL["policy"]
    return policy if policy is not None else DTypePolicy(config.floatx())


def global_policy_is_set():
    """Whether `set_dtype_policy` chose a default (else layers follow `floatx()`)."""
    return _GLOBAL["policy"] is not None


def reset_dtype_policy():
    """Forgets the default policy set with `set_dtype_policy` (layers follow `floatx()`)."""
    _GLOBAL["policy"] = None


_BY_NAME = {}


def policy_from_name(name):
    """The policy named `name` (`"float32"`, `"int8_from_mixed_bfloat16"`, ...), cached."""
    policy = _BY_NAME.get(name)
    if policy is None:
        policy = _quantized_by_name(name) if name.startswith(QUANTIZATION_MODES) else DTypePolicy(name)
        if len(_BY_NAME) < 1024:
            _BY_NAME[name] = policy
    return policy


def _quantized_by_name(policy):
    parts = policy.split("_from_")
    if len(parts) != 2:
        raise ValueError(
            "Cannot convert `policy` into a valid pair (`mode`, `source_name`) to instantiate "
            f"`QuantizedDTypePolicy`. Received: policy={policy}"
        )
    mode, source_name = parts
    if mode.startswith("int4") and "/" in mode:
        return Int4DTypePolicy(mode, source_name)
    if mode.startswith("gptq"):
        return GPTQDTypePolicy(mode, source_name)
    if mode.startswith("awq"):
        return AWQDTypePolicy(mode, source_name)
    if mode.startswith("float8"):
        return QuantizedFloat8DTypePolicy(mode, source_name)
    return QuantizedDTypePolicy(mode, source_name)


_CLASSES = {
    cls.__name__: cls
    for cls in (
        DTypePolicy,
        FloatDTypePolicy,
        QuantizedDTypePolicy,
        QuantizedFloat8DTypePolicy,
        Int4DTypePolicy,
        GPTQDTypePolicy,
        AWQDTypePolicy,
    )
}


def serialize_policy(policy):
    """Keras's serialized form of a policy (`{"module", "class_name", "config", ...}`)."""
    name = type(policy).__name__
    module = "keras" if name in ("DTypePolicy", "FloatDTypePolicy") else "keras.dtype_policies"
    return {
        "module": module,
        "class_name": name,
        "config": policy.get_config(),
        "registered_name": None,
    }


def resolve_policy(identifier, classes=None):
    """A `DTypePolicy` from `None`, a policy, a name, a `torch.dtype` or a serialized dict.

    Raises:
        ValueError: When `identifier` names no policy.
    """
    if identifier is None:
        return dtype_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, torch.dtype):
        identifier = str(identifier).replace("torch.", "")
    if isinstance(identifier, dict):
        classes = classes or _CLASSES
        class_name = identifier.get("class_name")
        cls = classes.get(class_name)
        if cls is None:
            raise ValueError(
                f"Unknown dtype policy class: {class_name!r}. Expected one of {sorted(classes)}."
            )
        return cls.from_config(dict(identifier.get("config") or {}))
    if isinstance(identifier, str):
        return policy_from_name(identifier)
    raise ValueError(
        "Cannot interpret `dtype` argument. Expected a string or an instance of DTypePolicy. "
        f"Received: dtype={identifier}"
    )
