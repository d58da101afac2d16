"""Normalization layers: Batch-, Layer-, Group- and UnitNormalization.

Weights are stored like torch's modules (`weight` = gamma, `bias` = beta, `running_mean`,
`running_var`), so a layer's `state_dict()` loads into `nn.BatchNorm*d` / `nn.LayerNorm` /
`nn.GroupNorm`; `get_weights()` speaks Keras's names and order. The math is Keras 3's (epsilon
1e-3, BatchNormalization momentum 0.99 applied as `moving * momentum + batch * (1 - momentum)`,
moving variance from the biased batch variance), computed with torch's fused kernels.
"""

from keraslike.layers.normalization.batch_normalization import _AllReduceSum, BatchNormalization
from keraslike.layers.normalization.group_normalization import GroupNormalization
from keraslike.layers.normalization.layer_normalization import LayerNormalization
from keraslike.layers.normalization.normalization_utils import (
    _check_axes,
    _check_defined,
    _LOW_PRECISION,
    _MASK_EPSILON,
)
from keraslike.layers.normalization.unit_normalization import UnitNormalization


