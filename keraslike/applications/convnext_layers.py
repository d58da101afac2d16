"""ConvNeXt's two private layers, as Keras 3 defines them in `keras.applications.convnext`.

`LayerScale` multiplies by a learned per-channel vector; `StochasticDepth` drops a residual
branch per sample while training (identity at inference).
"""

import torch

from keraslike import initializers
from keraslike.layers import Layer


# The ejected twins of the two layers (`torch_source_translation`): same math, torch only.
_LAYER_SCALE_SOURCE = '''
class LayerScale(nn.Module):
    """ConvNeXt's LayerScale: the last axis times a learned vector `gamma`."""

    def __init__(self, dim):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * self.gamma
'''

_STOCHASTIC_DEPTH_SOURCE = '''
class StochasticDepth(nn.Module):
    """Drops a sample's residual branch with probability `rate` while training (identity in eval)."""

    def __init__(self, rate):
        super().__init__()
        self.rate = rate

    def forward(self, x):
        if not self.training:
            return x
        keep_prob = 1.0 - self.rate
        shape = (x.shape[0],) + (1,) * (x.ndim - 1)
        mask = torch.floor(keep_prob + torch.rand(shape, dtype=x.dtype, device=x.device))
        return (x / keep_prob) * mask
'''


class LayerScale(Layer):
    """Scales the last axis by a learned vector `gamma` (initialized to `init_values`).

    Reference: [Going deeper with Image Transformers](https://arxiv.org/abs/2103.17239).

    Args:
        init_values: Initial value of every entry of `gamma`.
        projection_dim: Size of the last axis (and of `gamma`).

    Input shape:
        Any, last axis `projection_dim`. Output shape: same as the input.
    """

    def __init__(self, init_values, projection_dim, **kwargs):
        super().__init__(**kwargs)
        self.init_values = init_values
        self.projection_dim = projection_dim

    def build(self, input_shape):
        self.add_weight(
            shape=(self.projection_dim,),
            initializer=initializers.Constant(self.init_values),
            trainable=True,
            name="gamma",
            torch_name="gamma",
        )
        self.built = True

    def call(self, x):
        return x * self.gamma

    def torch_source_translation(self):
        """This layer as plain torch, for `keraslike.export.to_torch_source`."""
        return {
            "module": f"LayerScale({self.projection_dim})",
            "state": {"gamma": self.gamma},
            "call": lambda module, inputs, node: f"{module}({inputs[0]})",
            "helpers": {"LayerScale": _LAYER_SCALE_SOURCE},
        }

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"init_values": self.init_values, "projection_dim": self.projection_dim})
        return config


class StochasticDepth(Layer):
    """Drops the whole input of a sample with probability `drop_path_rate` while training.

    Kept samples are scaled by `1 / (1 - drop_path_rate)`; at inference the layer is the
    identity. Reference: [Deep Networks with Stochastic Depth](https://arxiv.org/abs/1603.09382).

    Args:
        drop_path_rate: Probability of dropping a sample's residual branch.

    Input shape:
        Any, batch first. Output shape: same as the input.
    """

    def __init__(self, drop_path_rate, **kwargs):
        super().__init__(**kwargs)
        self.drop_path_rate = drop_path_rate

    def call(self, x, training=None):
        if training is None:
            training = self.training
        if not training:
            return x
        keep_prob = 1.0 - self.drop_path_rate
        shape = (x.shape[0],) + (1,) * (x.ndim - 1)
        mask = torch.floor(keep_prob + torch.rand(shape, dtype=x.dtype, device=x.device))
        return (x / keep_prob) * mask

    def torch_source_translation(self):
        """This layer as plain torch, for `keraslike.export.to_torch_source`."""
        return {
            "module": f"StochasticDepth({float(self.drop_path_rate)!r})",
            "call": lambda module, inputs, node: f"{module}({inputs[0]})",
            "helpers": {"StochasticDepth": _STOCHASTIC_DEPTH_SOURCE},
        }

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"drop_path_rate": self.drop_path_rate})
        return config
