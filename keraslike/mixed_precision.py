"""Mixed precision: `keras.mixed_precision.set_global_policy("mixed_float16" | "mixed_bfloat16")`.

Layers created under a mixed policy keep float32 weights and compute in float16/bfloat16: their
calls run under `torch.autocast` (`fit`, `evaluate` and `predict` enter it for the whole step,
an eager call for itself) and return outputs in the compute dtype, as Keras's layers do; a layer
with a float policy inside a mixed model computes in its own dtype (`layers/mixed_call.py`).
`fit` computes the loss in float32 and scales it for float16 (dynamic loss scaling, as Keras's
LossScaleOptimizer does).
"""

from keraslike.backend import config
from keraslike.dtype_policies.dtype_policy import (
    DTypePolicy,
    dtype_policy,
    global_policy_is_set,
    set_dtype_policy,
)

Policy = DTypePolicy


def set_global_policy(policy):
    """Sets the default dtype policy of layers created from now on.

    Args:
        policy: A policy name (`"mixed_float16"`, `"mixed_bfloat16"`, `"float32"`) or a `DTypePolicy`.
    """
    set_dtype_policy(policy)


def global_policy():
    """Returns the default dtype policy (floatx when none was set)."""
    return dtype_policy()


def default_policy_name():
    """The policy name a layer without an explicit `dtype` gets."""
    return dtype_policy().name if global_policy_is_set() else config.floatx()
