"""Base of the image augmentation layers: factors, seeds, training mode, host-data inputs.

Augmentations draw their random parameters with `keras.random` ops and a per-layer
`SeedGenerator` (`layer.generator`, as Keras), in the same order and shapes as Keras 3's layers,
so a layer seeded like Keras's draws the same numbers. The images themselves stay on their
device: the transforms are batched torch ops.

Training mode is Keras's: these layers' `call` defaults to `training=True`, so a standalone
call (a data pipeline) augments, `fit` augments, and `predict` / `evaluate` (which pass
`training=False`) return the images unchanged (cast to the layer's float dtype).
"""

import numpy as np
import torch

from keraslike.backend import config as backend_config
from keraslike.graph.shape_inference import torch_dtype
from keraslike.layers.layer import Layer
from keraslike.random import SeedGenerator, uniform

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("nearest", "bilinear")


def check_choice(layer_name, arg, value, allowed):
    if value not in allowed:
        raise ValueError(
            f"Layer {layer_name}: unknown value for argument `{arg}`. Expected one of "
            f"{', '.join(repr(a) for a in allowed)}. Received: {arg}={value!r}"
        )


class BaseAugmentation(Layer):
    """Common machinery; subclasses implement `transform_images(images, training)`.

    `images` reaching `transform_images` are a torch float tensor (layer dtype), batched
    `(B, H, W, C)` / `(B, C, H, W)`; unbatched inputs are handled here.
    """

    _USE_BASE_FACTOR = True
    _FACTOR_BOUNDS = (-1, 1)

    def __init__(self, factor=None, data_format=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = backend_config.standardize_data_format(data_format)
        self.seed = seed
        self.generator = SeedGenerator(seed)
        if self._USE_BASE_FACTOR:
            self._set_factor(factor or 0.0)
        elif factor is not None:
            raise ValueError(
                f"Layer {type(self).__name__} does not take a `factor` argument. "
                f"Received: factor={factor}"
            )

    def _set_factor(self, factor):
        low, high = self._FACTOR_BOUNDS
        message = (
            "The `factor` argument should be a number (or a list of two numbers) in the range "
            f"[{low}, {high}]. Received: factor={factor}"
        )
        if isinstance(factor, (tuple, list)):
            if len(factor) != 2 or factor[0] > high or factor[1] < low:
                raise ValueError(message)
            lower, upper = sorted(factor)
        elif isinstance(factor, (int, float)) and not isinstance(factor, bool):
            if factor < low or factor > high:
                raise ValueError(message)
            factor = abs(factor)
            lower, upper = max(-factor, low), factor
        else:
            raise ValueError(message)
        self.factor = lower, upper

    @property
    def spatial_axes(self):
        """Axes of (height, width) in a batched image tensor."""
        return (1, 2) if self.data_format == "channels_last" else (2, 3)

    @property
    def channel_axis(self):
        return 3 if self.data_format == "channels_last" else 1

    def _as_images(self, inputs):
        if isinstance(inputs, np.ndarray):
            if inputs.dtype.kind in "USO":
                raise ValueError(
                    f'Layer "{self.name}" ({type(self).__name__}) takes numbers, but `inputs` '
                    f"holds strings. Received: inputs.dtype={inputs.dtype}"
                )
            inputs = torch.from_numpy(np.ascontiguousarray(inputs))
        elif not isinstance(inputs, torch.Tensor):
            inputs = torch.as_tensor(np.asarray(inputs))
        return inputs.to(torch_dtype(self.compute_dtype))

    def __call__(self, *args, **kwargs):
        if args and isinstance(args[0], (np.ndarray, list)):
            args = (self._as_images(args[0]),) + args[1:]
        return super().__call__(*args, **kwargs)

    def call(self, inputs, training=True):
        images = self._as_images(inputs)
        if images.ndim not in (3, 4):
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}) expects images of rank 3 or 4. '
                f"Received: inputs.shape={tuple(images.shape)}"
            )
        if training is None:
            training = True  # Keras's `call(data, training=True)` default
        unbatched = images.ndim == 3
        if unbatched:
            images = images.unsqueeze(0)
        out = self.transform_images(images, bool(training))
        return out.squeeze(0) if unbatched else out

    def transform_images(self, images, training):
        raise NotImplementedError

    def uniform(self, shape, minval=0.0, maxval=1.0, device=None):
        """Random numbers drawn as Keras's `keras.random.uniform(..., seed=self.generator)`,
        on `device` (the images' device: no host-to-device copy per batch). On the CPU these are
        exactly the numbers `keras.random.uniform` gives."""
        if device is None or torch.device(device).type == "cpu" or torch.compiler.is_compiling():
            values = uniform(shape, minval=minval, maxval=maxval, seed=self.generator)
            return values if device is None else values.to(device, non_blocking=True)
        generator = torch.Generator(device=device)
        generator.manual_seed(self.generator.draw_int())
        shape = tuple(shape)
        values = torch.rand(shape or (1,), generator=generator, device=device,
                            dtype=torch_dtype(backend_config.floatx()))
        values = (maxval - minval) * values + minval
        return values if shape else values[0]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "seed": self.seed})
        return config
