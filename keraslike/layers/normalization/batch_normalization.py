"""`BatchNormalization`: Keras's momentum and epsilon, torch's fused kernels, synchronized across processes."""

import copy

import torch
import torch.nn.functional as F

from keraslike import constraints, initializers, regularizers
from keraslike.backend.errors import ArgumentTypeError
from keraslike.layers.input_spec import InputSpec
from keraslike.layers.layer import Layer
from keraslike.layers.layer_utils import serialize_or_none as _serialize
from keraslike.layers.normalization.normalization_utils import (
    _check_axes,
    _check_defined,
    _LOW_PRECISION,
    _MASK_EPSILON,
)


class _AllReduceSum(torch.autograd.Function):
    """Sum over the processes of the default group, differentiable (the gradient is summed too)."""

    @staticmethod
    def forward(ctx, tensor):
        out = tensor.clone()
        torch.distributed.all_reduce(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        grad = grad.clone()
        torch.distributed.all_reduce(grad)
        return grad


class BatchNormalization(Layer):
    """Normalizes its inputs with batch statistics (training) or moving statistics (inference).

    Training (`training=True`, or `model.train()` / `fit`) returns
    `gamma * (x - mean(batch)) / sqrt(var(batch) + epsilon) + beta` and updates
    `moving = moving * momentum + batch_stat * (1 - momentum)`, using the biased batch variance
    (as Keras; torch's `nn.BatchNorm` uses the unbiased one). Inference uses the moving statistics.
    A frozen layer (`layer.trainable = False`) always runs in inference mode, as in Keras.

    Stored like `nn.BatchNorm*d`: parameters `weight` (Keras `gamma`) and `bias` (`beta`),
    buffers `running_mean` (`moving_mean`) and `running_var` (`moving_variance`).

    Args:
        axis: Integer, the features axis (`-1` for channels_last; `1` after channels_first convs).
        momentum: Momentum of the moving averages.
        epsilon: Small float added to the variance.
        center: Whether to add the offset `beta`.
        scale: Whether to multiply by `gamma`.
        beta_initializer, gamma_initializer: Initializers of beta (`"zeros"`) and gamma (`"ones"`).
        moving_mean_initializer, moving_variance_initializer: Initializers of the moving statistics.
        beta_regularizer, gamma_regularizer: Optional weight penalties.
        beta_constraint, gamma_constraint: Optional weight constraints.
        renorm: Whether to use Batch Renormalization (adds `moving_stddev`, `renorm_mean`,
            `renorm_stddev` buffers).
        renorm_clipping: Dict with optional keys `"rmax"`, `"rmin"`, `"dmax"`.
        renorm_momentum: Momentum of the renorm statistics.
        synchronized: Whether to compute batch statistics across all processes of an initialized
            `torch.distributed` group (for DDP); without one it has no effect.

    Call arguments:
        inputs: Tensor of any rank.
        training: Whether to normalize with batch statistics (default: `self.training`).
        mask: Optional boolean tensor of rank `inputs.ndim - 1` (e.g. `(batch, time)`): masked
            positions are left out of the batch statistics.

    Input shape:
        Any. Output shape: same as the input.
    """

    def __init__(
        self,
        axis=-1,
        momentum=0.99,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        renorm=False,
        renorm_clipping=None,
        renorm_momentum=0.99,
        synchronized=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            try:
                axis = int(axis)
            except (TypeError, ValueError):
                # Keras fails in `int(axis)`: a TypeError for a list; ours is both types.
                raise ArgumentTypeError(
                    f'Invalid value for argument `axis` of layer "{self.name}": expected an '
                    f"integer. Received: axis={axis!r}"
                ) from None
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        if not 0.0 <= self.momentum <= 1.0:
            raise ValueError(
                f'Invalid value for argument `momentum` of layer "{self.name}": expected a float '
                f"in [0, 1]. Received: momentum={momentum}"
            )
        if self.epsilon <= 0.0:
            raise ValueError(
                f'Invalid value for argument `epsilon` of layer "{self.name}": expected a '
                f"positive float. Received: epsilon={epsilon}"
            )
        self.center = center
        self.scale = scale
        self.synchronized = synchronized
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True
        self.renorm = renorm
        if renorm:
            clipping = renorm_clipping = renorm_clipping or {}  # Keras's config keeps the {}
            keys = ["rmax", "rmin", "dmax"]
            if set(clipping) - set(keys):
                raise ValueError(
                    f"Received invalid keys for `renorm_clipping` argument: {renorm_clipping}. "
                    f"Supported values: {keys}."
                )
            rmax, rmin, dmax = clipping.get("rmax"), clipping.get("rmin"), clipping.get("dmax")
            if rmax is not None and rmin is not None and rmax < rmin:
                raise ValueError(
                    "rmax should be greater than rmin in the `renorm_clipping` argument. "
                    f"Received: rmax={rmax}, rmin={rmin}."
                )
            if dmax is not None and dmax < 0:
                raise ValueError(
                    "dmax should be non-negative in the `renorm_clipping` argument. "
                    f"Received: dmax={dmax}."
                )
        self.renorm_clipping = renorm_clipping
        self.renorm_momentum = renorm_momentum

    def build(self, input_shape):
        (axis,) = _check_axes(self, self.axis, input_shape)
        _check_defined(self, input_shape, [axis])
        shape = (input_shape[axis],)
        if self.scale:
            self.add_weight(
                shape=shape,
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
                shape=shape,
                name="beta",
                torch_name="bias",
                initializer=self.beta_initializer,
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
                autocast=False,
            )
        else:
            self.bias = None
        self.add_weight(
            shape=shape,
            name="moving_mean",
            torch_name="running_mean",
            initializer=self.moving_mean_initializer,
            trainable=False,
            autocast=False,
        )
        self.add_weight(
            shape=shape,
            name="moving_variance",
            torch_name="running_var",
            initializer=self.moving_variance_initializer,
            trainable=False,
            autocast=False,
        )
        if self.renorm:
            variance_init = self.moving_variance_initializer

            def stddev_init(shape, dtype=None):
                return torch.sqrt(torch.as_tensor(copy.copy(variance_init)(shape, dtype=dtype)))

            self.add_weight(
                shape=shape, name="moving_stddev", initializer=stddev_init, trainable=False
            )
            self.add_weight(
                shape=shape,
                name="renorm_mean",
                initializer=copy.copy(self.moving_mean_initializer),
                trainable=False,
            )
            self.add_weight(
                shape=shape, name="renorm_stddev", initializer=stddev_init, trainable=False
            )
        self.input_spec = InputSpec(ndim=len(input_shape), axes={self.axis: input_shape[axis]})
        self.built = True

    # ------------------------------------------------------------------ call

    def call(self, inputs, training=None, mask=None):
        if training is None:
            training = self.training
        if mask is not None and mask.ndim != inputs.ndim - 1:
            raise ValueError(
                f'The mask given to layer "{self.name}" should have one dimension less than the '
                f"inputs. Received: mask.shape={tuple(mask.shape)}, "
                f"inputs.shape={tuple(inputs.shape)}"
            )
        return self._call_on_axis(inputs, self.axis % inputs.ndim, training, mask)

    def _channels_first_call(self, rank):
        # graph/layout.py: `call` on channels-first views, for a layer normalizing the last axis.
        if rank < 3 or self.axis % rank != rank - 1:
            return None
        return self._call_channels_first

    def _call_channels_first(self, inputs, training=None, mask=None):
        if training is None:
            training = self.training
        if self.axis % inputs.ndim != inputs.ndim - 1:  # changed since the plan was compiled
            perm = (0,) + tuple(range(2, inputs.ndim)) + (1,)
            out = self.call(inputs.permute(perm), training=training, mask=mask)
            return out.movedim(-1, 1)
        return self._call_on_axis(inputs, 1, training, mask)

    def _call_on_axis(self, inputs, axis, training, mask):
        if inputs.dtype not in _LOW_PRECISION and inputs.dtype != self.running_mean.dtype:
            inputs = inputs.to(self.running_mean.dtype)  # e.g. float64 data into a float32 layer
        train = bool(training) and self.trainable
        if not train:
            if inputs.ndim < 2:
                return self._normalize(inputs, axis, self.running_mean, self.running_var,
                                       self.weight, self.bias)
            x = inputs if axis == 1 else inputs.movedim(axis, 1)
            out = F.batch_norm(
                x, self.running_mean, self.running_var, self.weight, self.bias,
                False, 0.0, self.epsilon,
            )
            return out if axis == 1 else out.movedim(1, axis)
        fast = (
            mask is None
            and not self.renorm
            and not self._distributed()
            and inputs.ndim >= 2
            and inputs.numel() > inputs.shape[axis]  # torch needs > 1 value per channel
        )
        if fast:
            return self._fused_train(inputs, axis)
        return self._manual_train(inputs, axis, mask)

    def _fused_train(self, inputs, axis):
        # torch's kernel normalizes with the biased batch variance (as Keras) but blends the
        # UNBIASED one into running_var: with torch momentum `1 - m` it stores
        # blended = m * old + (1 - m) * var * n / (n - 1). With c = (n - 1) / n,
        # c * blended + (1 - c) * m * old = m * old + (1 - m) * var, Keras's update (a sum of
        # non-negative terms, so no cancellation), on the device, with no host sync or extra pass.
        m = self.momentum
        x = inputs if axis == 1 else inputs.movedim(axis, 1)
        n = x.numel() // x.shape[1]
        c = (n - 1) / n
        # `blended` receives torch's update; autograd saves it, so it is never modified afterwards.
        blended = self.running_var.clone()
        out = F.batch_norm(
            x, self.running_mean, blended, self.weight, self.bias, True, 1.0 - m, self.epsilon
        )
        with torch.no_grad():
            self.running_var.mul_((1.0 - c) * m).add_(blended, alpha=c)
        return out if axis == 1 else out.movedim(1, axis)

    def _manual_train(self, inputs, axis, mask):
        x = inputs.float() if inputs.dtype in _LOW_PRECISION else inputs
        mean, variance = self._moments(x, axis, mask)
        gamma, beta = self.weight, self.bias
        if self.renorm:
            gamma, beta = self._renorm_transform(mean, variance, gamma, beta)
            self._update_renorm_statistics(mean.detach(), variance.detach())
        else:
            m = self.momentum
            with torch.no_grad():
                dtype = self.running_mean.dtype
                self.running_mean.mul_(m).add_(mean.detach().to(dtype), alpha=1 - m)
                self.running_var.mul_(m).add_(variance.detach().to(dtype), alpha=1 - m)
        out = self._normalize(x, axis, mean, variance, gamma, beta)
        return out.to(inputs.dtype)

    def _normalize(self, x, axis, mean, variance, gamma, beta):
        shape = [1] * x.ndim
        shape[axis] = -1
        inv = torch.rsqrt(variance.to(x.dtype) + self.epsilon)
        if gamma is not None:
            inv = inv * gamma.to(x.dtype)
        out = (x - mean.to(x.dtype).reshape(shape)) * inv.reshape(shape)
        if beta is not None:
            out = out + beta.to(x.dtype).reshape(shape)
        return out

    def _distributed(self):
        if not self.synchronized:
            return False
        dist = torch.distributed
        return dist.is_available() and dist.is_initialized()

    def _moments(self, x, axis, mask):
        axes = [d for d in range(x.ndim) if d != axis]
        keep = None
        if mask is not None:
            keep = mask.unsqueeze(-1).expand(x.shape).bool()
        if self._distributed():
            return self._global_moments(x, axes, keep)
        if keep is None:
            variance, mean = torch.var_mean(x, dim=axes, correction=0)
            return mean, variance
        shape = [1] * x.ndim
        shape[axis] = -1
        zero = torch.zeros((), dtype=x.dtype, device=x.device)
        count = keep.to(x.dtype).sum(axes)
        mean = torch.where(keep, x, zero).sum(axes) / (count + _MASK_EPSILON)
        diff = torch.where(keep, x - mean.reshape(shape), zero)
        variance = diff.square().sum(axes) / (count + _MASK_EPSILON)
        return mean, variance

    def _global_moments(self, x, axes, keep):
        # Statistics over every process of the default group; gradients flow back through the
        # all-reduces to each process's inputs.
        all_reduce = _AllReduceSum.apply
        zero = torch.zeros((), dtype=x.dtype, device=x.device)
        if keep is None:
            total = x.sum(axes)
            count = torch.full_like(total, x.numel() // total.numel())
        else:
            total = torch.where(keep, x, zero).sum(axes)
            count = keep.to(x.dtype).sum(axes)
        total, count = all_reduce(torch.cat([total, count])).chunk(2)
        mean = total / count.clamp_min(1)
        shape = [1] * x.ndim
        shape[[d for d in range(x.ndim) if d not in axes][0]] = -1
        diff = x - mean.reshape(shape)
        if keep is not None:
            diff = torch.where(keep, diff, zero)
        variance = all_reduce(diff.square().sum(axes)) / count.clamp_min(1)
        return mean, variance

    def _renorm_transform(self, mean, variance, gamma, beta):
        clipping = self.renorm_clipping or {}
        eps = self.epsilon
        stddev = torch.sqrt(variance + eps)
        renorm_stddev = torch.clamp_min(self.renorm_stddev.to(mean.dtype), eps**0.5)
        r = (stddev / renorm_stddev).detach()
        d = ((mean - self.renorm_mean.to(mean.dtype)) / renorm_stddev).detach()
        if clipping.get("rmin") is not None:
            r = torch.clamp_min(r, clipping["rmin"])
        if clipping.get("rmax") is not None:
            r = torch.clamp_max(r, clipping["rmax"])
        if clipping.get("dmax") is not None:
            d = torch.clamp(d, -clipping["dmax"], clipping["dmax"])
        if gamma is not None:
            new_gamma, new_beta = r * gamma, d * gamma
        else:
            new_gamma, new_beta = r, d
        if beta is not None:
            new_beta = new_beta + beta
        return new_gamma, new_beta

    @torch.no_grad()
    def _update_renorm_statistics(self, mean, variance):
        eps, m, rm = self.epsilon, self.momentum, self.renorm_momentum
        stddev = torch.sqrt(variance + eps)
        self.renorm_mean.copy_(self.renorm_mean * rm + mean * (1.0 - rm))
        self.renorm_stddev.copy_(self.renorm_stddev * rm + stddev * (1.0 - rm))
        self.running_mean.copy_(self.running_mean * m + mean * (1.0 - m))
        new_stddev = self.moving_stddev * m + stddev * (1.0 - m)
        self.moving_stddev.copy_(new_stddev)
        self.running_var.copy_(F.relu(new_stddev * new_stddev - eps))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
        # A state_dict from torch's BatchNormNd carries `num_batches_tracked`, which Keras's
        # batch normalization has no use for (its momentum is fixed): accept and drop it.
        state_dict.pop(prefix + "num_batches_tracked", None)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing, unexpected, errors)

    def compute_output_shape(self, input_shape):
        _check_axes(self, self.axis, input_shape)
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "axis": self.axis,
                "momentum": self.momentum,
                "epsilon": self.epsilon,
                "center": self.center,
                "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
                "moving_variance_initializer": initializers.serialize(
                    self.moving_variance_initializer
                ),
                "beta_regularizer": _serialize(regularizers, self.beta_regularizer),
                "gamma_regularizer": _serialize(regularizers, self.gamma_regularizer),
                "beta_constraint": _serialize(constraints, self.beta_constraint),
                "gamma_constraint": _serialize(constraints, self.gamma_constraint),
                "synchronized": self.synchronized,
                "renorm": self.renorm,
                "renorm_clipping": self.renorm_clipping,
                "renorm_momentum": self.renorm_momentum,
            }
        )
        return config
