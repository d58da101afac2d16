"""DTypePolicyMap: dtype policies by layer path (exact keys first, then regex patterns)."""

import re
from collections.abc import MutableMapping

from keraslike.dtype_policies.dtype_policy import (
    DTypePolicy,
    QuantizedDTypePolicy,
    resolve_policy,
    serialize_policy,
)


class DTypePolicyMap(DTypePolicy, MutableMapping):
    """A dict-like map from layer paths to dtype policies, with a default policy.

    A layer given a map as its `dtype` looks its own path up; sublayers of a composite layer
    can thus get different policies (e.g. some quantized, some not).

    Args:
        default_policy: The policy of paths not in the map (default: the global policy).
        policy_map: Optional dict of path (or regex pattern) -> policy.

    Example:

    >>> policy_map = keras.dtype_policies.DTypePolicyMap(default_policy="float32")
    >>> policy_map["encoder/.*"] = "bfloat16"
    >>> policy_map["encoder/dense"].name
    'bfloat16'
    """

    def __init__(self, default_policy=None, policy_map=None):
        if isinstance(default_policy, DTypePolicyMap):
            raise ValueError("`default_policy` cannot be a `DTypePolicyMap`.")
        if policy_map is not None and not isinstance(policy_map, dict):
            raise TypeError(
                "If specified, `policy_map` must be a dict. "
                f"Received: policy_map={policy_map} of type {type(policy_map)}"
            )
        self._default_policy_arg = default_policy
        self._default_policy = resolve_policy(default_policy)
        self._policy_map = {
            key: resolve_policy(value) for key, value in (policy_map or {}).items()
        }

    @property
    def name(self):
        return f"map_{self.default_policy._name}"

    @property
    def _name(self):
        return self.name

    @property
    def default_policy(self):
        """The policy of paths that match no key."""
        return self._default_policy

    @property
    def variable_dtype(self):
        return self.default_policy.variable_dtype

    @property
    def compute_dtype(self):
        return self.default_policy.compute_dtype

    @property
    def quantization_mode(self):
        return self.default_policy.quantization_mode

    def __getitem__(self, key):
        """The policy of path `key`: an exact key, else the one regex key that fully matches it.

        Raises:
            ValueError: When `key` matches more than one pattern.
        """
        if key in self._policy_map:
            return self._policy_map[key]
        matching = [pattern for pattern in self._policy_map if re.fullmatch(pattern, key)]
        if len(matching) > 1:
            raise ValueError(
                f"Path '{key}' matches multiple dtype policy specification keys: {matching}. "
                "Please make sure each path only matches at most one dtype policy "
                "specification key in the DTypePolicyMap."
            )
        if matching:
            return self._policy_map[matching[0]]
        return self.default_policy

    def __setitem__(self, key, policy):
        if key in self._policy_map:
            raise ValueError(
                f"{key} already exist in the DTypePolicyMap with value "
                f"{self._policy_map[key]}. Please make sure to not use duplicated keys."
            )
        try:
            policy = resolve_policy(policy)
        except Exception:
            raise ValueError(
                "Cannot interpret the assigned value by `keras.dtype_policies.get`. "
                f"Received: {policy} of type {type(policy)}"
            ) from None
        self._policy_map[key] = policy

    def __delitem__(self, key):
        return self._policy_map.pop(key)

    def __contains__(self, key):
        return key in self._policy_map

    def __len__(self):
        return len(self._policy_map)

    def __iter__(self):
        return iter(self._policy_map)

    def __eq__(self, other):
        return self is other

    __hash__ = object.__hash__

    def get_config(self):
        entries = {}
        for key, policy in self._policy_map.items():
            entry = serialize_policy(policy)
            if self._default_policy_arg is None:
                # As Keras: without a default, names defer to the global policy when loading.
                config = dict(entry["config"])
                config["source_name" if isinstance(policy, QuantizedDTypePolicy) else "name"] = None
                entry = dict(entry, config=config)
            entries[key] = entry
        return {"default_policy": self._default_policy_arg, "policy_map": entries}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)

    def __repr__(self):
        mapping = [(k, v.name) for k, v in self._policy_map.items()]
        return (
            f"<DTypePolicyMap at {hex(id(self))} default_policy={self._default_policy.name}, "
            f"mapping={mapping}>"
        )
