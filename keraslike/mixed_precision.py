"""Mixed precision: `keras.mixed_precision.set_global_policy("mixed_float16" | "mixed_bfloat16")`.

Layers created under a mixed policy keep float32 weights and compute in float16/bfloat16: `fit`,
`evaluate` and `predict` run the forward pass under `torch.autocast`, and `fit` scales the loss
for float16 (dynamic loss scaling, as Keras's LossScaleOptimizer does).
"""

from keraslike.backend import config

_GLOBAL_POLICY = None
_POLICIES = ("float32", "float16", "bfloat16", "float64", "mixed_float16", "mixed_bfloat16")


class DTypePolicy:
    """A dtype policy: the dtype of a layer's weights and of its computations.

    Args:
        name: `"float32"`, `"mixed_float16"`, `"mixed_bfloat16"`, ...
    """

    def __init__(self, name=None):
        name = name or config.floatx()
        if name not in _POLICIES:
            raise ValueError(
                f"Cannot convert '{name}' to a mixed precision DTypePolicy. Valid policies "
                f"include 'mixed_float16', 'mixed_bfloat16', and the name of any float dtype."
            )
        self.name = name

    @property
    def compute_dtype(self):
        """The dtype of computations (`"float16"` for `"mixed_float16"`)."""
        return self.name.split("_", 1)[1] if self.name.startswith("mixed_") else self.name

    @property
    def variable_dtype(self):
        """The dtype of weights (`"float32"` for mixed policies)."""
        return "float32" if self.name.startswith("mixed_") else self.name

    def __repr__(self):
        return f'<DTypePolicy "{self.name}">'

    def get_config(self):
        """Returns `{"name": ...}`."""
        return {"name": self.name}


Policy = DTypePolicy


def set_global_policy(policy):
    """Sets the default dtype policy of layers created from now on.

    Args:
        policy: A policy name (`"mixed_float16"`, `"mixed_bfloat16"`, `"float32"`) or a `DTypePolicy`.
    """
    global _GLOBAL_POLICY
    _GLOBAL_POLICY = policy if isinstance(policy, DTypePolicy) else DTypePolicy(policy)


def global_policy():
    """Returns the default dtype policy (floatx when none was set)."""
    return _GLOBAL_POLICY or DTypePolicy(config.floatx())


def default_policy_name():
    """The policy name a layer without an explicit `dtype` gets."""
    return _GLOBAL_POLICY.name if _GLOBAL_POLICY is not None else config.floatx()
