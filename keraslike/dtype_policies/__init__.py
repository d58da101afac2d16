"""`keras.dtype_policies`: the dtype (and quantization) policies of layers, as in Keras 3."""

from keraslike.dtype_policies.dtype_policy import (
    QUANTIZATION_MODES,
    AWQDTypePolicy,
    DTypePolicy,
    FloatDTypePolicy,
    GPTQDTypePolicy,
    Int4DTypePolicy,
    QuantizedDTypePolicy,
    QuantizedFloat8DTypePolicy,
    dtype_policy,
    resolve_policy,
    serialize_policy,
    set_dtype_policy,
)
from keraslike.dtype_policies.dtype_policy_map import DTypePolicyMap

ALL_OBJECTS = {
    AWQDTypePolicy,
    DTypePolicy,
    FloatDTypePolicy,
    QuantizedDTypePolicy,
    QuantizedFloat8DTypePolicy,
    DTypePolicyMap,
    GPTQDTypePolicy,
    Int4DTypePolicy,
}
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in ALL_OBJECTS}


def serialize(dtype_policy):
    """Returns Keras's serialized form of a `DTypePolicy` (a JSON-safe dict).

    Args:
        dtype_policy: A `DTypePolicy` (or `DTypePolicyMap`).
    """
    return serialize_policy(dtype_policy)


def deserialize(config, custom_objects=None):
    """Returns the `DTypePolicy` described by `config` (the output of `serialize`).

    Raises:
        ValueError: For an unknown class name.
    """
    classes = dict(ALL_OBJECTS_DICT, **(custom_objects or {}))
    return resolve_policy(config, classes)


def get(identifier):
    """Returns a `DTypePolicy` from an identifier.

    Args:
        identifier: `None` (the global policy), a policy name (`"mixed_bfloat16"`,
            `"int8_from_float32"`), a serialized policy dict, or a `DTypePolicy`.

    Raises:
        ValueError: When the identifier cannot be interpreted.

    Example:

    >>> keras.dtype_policies.get("int8_from_mixed_bfloat16")
    <QuantizedDTypePolicy "int8_from_mixed_bfloat16">
    """
    if isinstance(identifier, dict):
        return deserialize(identifier)
    return resolve_policy(identifier)


__all__ = [
    "AWQDTypePolicy",
    "DTypePolicy",
    "DTypePolicyMap",
    "FloatDTypePolicy",
    "GPTQDTypePolicy",
    "Int4DTypePolicy",
    "QuantizedDTypePolicy",
    "QuantizedFloat8DTypePolicy",
    "deserialize",
    "get",
    "serialize",
]
