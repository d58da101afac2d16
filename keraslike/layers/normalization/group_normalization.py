"""`GroupNormalization`."""

import torch
import torch.nn.functional as F

from keraslike import constraints, initializers, regularizers
from keraslike.layers.input_spec import InputSpec
from keraslike.layers.layer import Layer
from keraslike.layers.layer_utils import serialize_or_none as _serialize
from keraslike.layers.normalization.normalization_utils import (
    _check_axes,
    _check_defined,
    _LOW_PRECISION,
)


class GroupNormalization(Layer):
    """Group normalization: normalizes each example over groups of channels (and all other axes).

    With `groups=1` it is layer normalization over all non-batch axes; with `groups=-1` (one
    channel per group) it is instance normalization. Computed with `F.group_norm` on a
    channels-first view; `weight`/`bias` load into `nn.GroupNorm(groups, channels)`.

    Args:
        groups: Number of groups (default 32); must divide the number of channels. `-1` means
            one group per channel.
        axis: Integer, the channels axis (default `-1`).
        epsilon: Small float added to the variance.
        center: Whether to add the offset `beta`.
        scale: Whether to multiply by `gamma`.
        beta_initializer, gamma_initializer: Initializers of beta (`"zeros"`) and gamma (`"ones"`).
        beta_regularizer, gamma_regularizer: Optional weight penalties.
        beta_constraint, gamma_constraint: Optional weight constraints.

    Input shape:
        `(batch_size, ..., channels)` (any rank >= 2). Output shape: same as the input.
    """

    _casts_own_mixed_outputs = True  # Keras turns its autocast off and casts its outputs

    def __init__(
        self,
        groups=32,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if (
            not isinstance(groups, int)
            or isinstance(groups, bool)
            or (groups <= 0 and groups != -1)
        ):
            raise ValueError(
                f'Received an invalid value for argument `groups` of layer "{self.name}", '
                "expected a positive integer (or `-1` for instance normalization). "
                f"Received: groups={groups}"
            )
        if not isinstance(axis, int) or isinstance(axis, bool):
            raise ValueError(
                f'Invalid value for argument `axis` of layer "{self.name}": expected an integer. '
                f"Received: axis={axis!r}"
            )
        self.supports_masking = True
        self.autocast = False
        self.groups = groups
        self.axis = axis
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def build(self, input_shape):
        (axis,) = _check_axes(self, self.axis, input_shape)
        if axis == 0:
            raise ValueError(
                f'Invalid value for argument `axis` of layer "{self.name}": the channels axis '
                f"cannot be the batch axis. Received: axis={self.axis}"
            )
        _check_defined(self, input_shape, [axis])
        dim = input_shape[axis]
        if self.groups == -1:
            self.groups = dim
        if dim < self.groups:
            raise ValueError(
                f'Invalid value for argument `groups` of layer "{self.name}": the number of '
                f"groups ({self.groups}) cannot be more than the number of channels ({dim}). "
                f"Received: groups={self.groups}"
            )
        if dim % self.groups != 0:
            raise ValueError(
                f'Invalid value for argument `groups` of layer "{self.name}": the number of '
                f"channels ({dim}) must be a multiple of the number of groups ({self.groups}). "
                f"Received: groups={self.groups}"
            )
        self.input_spec = InputSpec(ndim=len(input_shape), axes={self.axis: dim})
        if self.scale:
            self.add_weight(
                shape=(dim,),
                name="gamma",
                torch_name="weight",
                initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
                autocast=False,
            )
        else:
            self.weight = None
        if self.center:
            self.add_weight(
                shape=(dim,),
                name="beta",
                torch_name="bias",
                initializer=self.beta_initializer,
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
                autocast=False,
            )
        else:
            self.bias = None
        self.built = True

    def call(self, inputs):
        axis = self.axis % inputs.ndim
        x = inputs.float() if inputs.dtype in _LOW_PRECISION else inputs
        x = x if axis == 1 else x.movedim(axis, 1)
        weight, bias = (
            w if w is None or w.dtype == x.dtype else w.to(x.dtype) for w in (self.weight, self.bias)
        )
        if (x.ndim > 3 and not x.requires_grad and torch.is_grad_enabled()
                and any(w is not None and w.requires_grad for w in (weight, bias))
                and not x.is_contiguous()):
            # torch 2.13's group_norm backward crashes the process (segfault) on a channels_last
            # input that needs no gradient while the weights do (a model's first layer in `fit`).
            x = x.contiguous()
        out = F.group_norm(x, self.groups, weight, bias, self.epsilon)
        out = out if axis == 1 else out.movedim(1, axis)
        # Computed in float32 at least; returned in the compute dtype, as Keras.
        dtype = self._compute_torch_dtype
        return out if out.dtype is dtype else out.to(dtype)

    def compute_output_shape(self, input_shape):
        _check_axes(self, self.axis, input_shape)
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "groups": self.groups,
                "axis": self.axis,
                "epsilon": self.epsilon,
                "center": self.center,
                "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "beta_regularizer": _serialize(regularizers, self.beta_regularizer),
                "gamma_regularizer": _serialize(regularizers, self.gamma_regularizer),
                "beta_constraint": _serialize(constraints, self.beta_constraint),
                "gamma_constraint": _serialize(constraints, self.gamma_constraint),
            }
        )
        return config
