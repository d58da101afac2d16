"""Base of the image augmentation layers: factors, seeds, training mode, host-data inputs.

Augmentations draw their random parameters with `keras.random` ops and a per-layer
`SeedGenerator` (`layer.generator`, as Keras), in the same order and shapes as Keras 3's layers,
so a layer seeded like Keras's draws the same numbers. The images themselves stay on their
device: the transforms are batched torch ops.

A layer either overrides `transform_images(images, training)` or, like Keras's layers, splits
its work in two: `get_random_transformation(images, seed)` draws the parameters (from `seed`, a
`SeedGenerator`, by default the layer's own) and `apply_transformation(images, transformation)`
applies them. The split lets `RandAugment`, `AugMix` and `RandomColorJitter` draw a sublayer's
parameters from their own generator (as Keras does) and lets dict inputs
(`{"images": ..., "labels": ..., "bounding_boxes": ...}`) transform images, labels and boxes
with the same draw. Boxes need `bounding_box_format=` on the layer; a layer that moves pixels
transforms them in `transform_bounding_boxes`, a colour layer declares `_KEEPS_GEOMETRY = True`
and keeps them, and any other layer refuses them (see `_boxes.py`).

Training mode is Keras's: these layers' `call` defaults to `training=True`, so a standalone
call (a data pipeline) augments, `fit` augments, and `predict` / `evaluate` (which pass
`training=False`) return the images unchanged (cast to the layer's float dtype).
"""

import functools

import numpy as np
import torch

from keraslike.backend import config as backend_config
from keraslike.graph.shape_inference import torch_dtype
from keraslike.layers.layer import Layer
from keraslike.layers.preprocessing import _boxes
from keraslike.random import SeedGenerator, beta, gamma, normal, randint, uniform
from keraslike.random.seed_generator import torch_seed

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("nearest", "bilinear")


_CPU = torch.device("cpu")


@functools.lru_cache(maxsize=128)
def constant(values, device, dtype):
    """A read-only tensor of `values` (nested tuples) on `device`, made once per (values,
    device, dtype): a constant used per batch then costs no host-to-device copy. Never modify
    the result in place."""
    return torch.tensor(values, dtype=dtype).to(device)


class UnsupportedChoiceError(ValueError, NotImplementedError):
    """A bad `fill_mode` / `interpolation`: a `ValueError` (what keraslike raises for bad
    arguments) that is also the `NotImplementedError` some Keras layers raise for it."""


def check_choice(layer_name, arg, value, allowed, error=ValueError):
    if value not in allowed:
        raise error(
            f"Layer {layer_name}: unknown value for argument `{arg}`. Expected one of "
            f"{', '.join(repr(a) for a in allowed)}. Received: {arg}={value!r}"
        )


class BaseAugmentation(Layer):
    """Common machinery; subclasses implement `transform_images(images, training)`.

    `images` reaching `transform_images` are a torch float tensor (layer dtype), batched
    `(B, H, W, C)` / `(B, C, H, W)`; unbatched inputs are handled here.
    """

    _allow_non_tensor_positional_args = True  # Python lists and strings, as Keras

    _USE_BASE_FACTOR = True
    _FACTOR_BOUNDS = (-1, 1)
    # True for layers that change pixel values only: boxes and masks come back unchanged.
    _KEEPS_GEOMETRY = False
    # True where `training=False` still transforms (RandomCrop crops the centre).
    _TRANSFORMS_AT_INFERENCE = False

    def __init__(self, factor=None, data_format=None, seed=None, bounding_box_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.bounding_box_format = bounding_box_format
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
        if args and isinstance(args[0], dict):
            # A data-pipeline dict (`{"images": ..., "labels": ...}`): eager only.
            return self.call(*args, **kwargs)
        return super().__call__(*args, **kwargs)

    def call(self, inputs, training=True):
        if isinstance(inputs, dict):
            return self._call_dict(inputs, training)
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

    def _call_dict(self, data, training):
        if training is None:
            training = True
        out = dict(data)
        images = self._as_images(data["images"])
        unbatched = images.ndim == 3
        if unbatched:
            images = images.unsqueeze(0)
        boxes = _boxes.read_boxes(self, data, unbatched, images.device)
        if boxes is not None and not self._KEEPS_GEOMETRY and (
            type(self).transform_bounding_boxes is BaseAugmentation.transform_bounding_boxes
        ):
            raise _boxes.unsupported(self, "bounding_boxes")  # before any draw
        if boxes is not None:
            out["bounding_boxes"] = _boxes.unbatch(boxes, unbatched)
        if not training and not self._TRANSFORMS_AT_INFERENCE:
            out["images"] = images.squeeze(0) if unbatched else images
            return out
        size = _boxes.image_size(images, self.data_format)
        if type(self).apply_transformation is BaseAugmentation.apply_transformation:
            # A layer with only `transform_images`: its draw is not shared with anything.
            transformation, images = None, self.transform_images(images, True)
        else:
            transformation = self.dict_transformation(images, training)
            images = self.apply_transformation(images, transformation)
        out["images"] = images.squeeze(0) if unbatched else images
        if boxes is not None and not self._KEEPS_GEOMETRY:
            boxes = self.transform_bounding_boxes(boxes, transformation, size)
            out["bounding_boxes"] = _boxes.unbatch(boxes, unbatched)
        if "labels" in data:
            labels = torch.as_tensor(data["labels"], device=images.device)
            labels = labels.unsqueeze(0) if unbatched else labels
            labels = self.transform_labels(labels, transformation)
            out["labels"] = labels.squeeze(0) if unbatched else labels
        return out

    def transform_images(self, images, training):
        if not training or images.device.type == "meta":
            # On `meta` tensors only the shape matters: draw nothing (no seed state advances).
            return images
        return self.apply_transformation(images, self.get_random_transformation(images))

    def dict_transformation(self, images, training):
        """The transformation of a dict input's batch `images` (drawn from the layer's seed)."""
        return self.get_random_transformation(images)

    def get_random_transformation(self, images, seed=None):
        """Draws this layer's random parameters for the batch `images` from `seed` (a
        `SeedGenerator`; the layer's own by default)."""
        return None

    def apply_transformation(self, images, transformation):
        """Applies parameters drawn by `get_random_transformation` to the batch `images`."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement `transform_images` or "
            "`get_random_transformation` and `apply_transformation`."
        )

    def transform_labels(self, labels, transformation):
        """Labels of a dict input (`{"images", "labels"}`); unchanged unless a layer mixes them."""
        return labels

    def transform_bounding_boxes(self, bounding_boxes, transformation, image_size):
        """Moves the boxes of a dict input with the images.

        Args:
            bounding_boxes: `{"boxes": (B, N, 4) float32, "labels": (B, N), ...}` in
                `self.bounding_box_format`, on the images' device.
            transformation: What `get_random_transformation` drew for this batch.
            image_size: `(height, width)` of the input images.

        Returns:
            The transformed dict (boxes in `self.bounding_box_format`, labels of boxes left
            empty set to -1, as Keras).
        """
        raise _boxes.unsupported(self, "bounding_boxes")

    def uniform(self, shape, minval=0.0, maxval=1.0, device=None, seed=None):
        """Random numbers drawn as Keras's `keras.random.uniform(..., seed=seed)` (`seed`: a
        `SeedGenerator`, the layer's by default), on `device` (the images' device: no
        host-to-device copy per batch). On the CPU these are exactly the numbers
        `keras.random.uniform` gives."""
        seed = self.generator if seed is None else seed
        if torch.compiler.is_compiling():
            values = uniform(shape, minval=minval, maxval=maxval, seed=seed)
            return values if device is None else values.to(device, non_blocking=True)
        # `keras.random.uniform`'s draw, made directly (with a kept generator) on `device`,
        # the CPU for `None`: on the CPU these are Keras's numbers.
        device = _CPU if device is None else device
        shape = tuple(shape)
        values = torch.rand(shape or (1,), generator=self._device_generator(device, seed),
                            device=device, dtype=torch_dtype(backend_config.floatx()))
        if minval != 0.0 or maxval != 1.0:  # (1 * v + 0 == v: skip two kernels)
            values = (maxval - minval) * values + minval
        return values if shape else values[0]

    def normal(self, shape, device=None, seed=None):
        """Standard normal numbers, as `keras.random.normal(shape, seed=seed)`, on `device`."""
        seed = self.generator if seed is None else seed
        if device is None or torch.device(device).type == "cpu" or torch.compiler.is_compiling():
            values = normal(shape, seed=seed)
            return values if device is None else values.to(device, non_blocking=True)
        return torch.randn(tuple(shape), generator=self._device_generator(device, seed),
                           device=device, dtype=torch_dtype(backend_config.floatx()))

    def randint(self, shape, minval, maxval, device=None, seed=None, dtype="int32"):
        """Integers in `[minval, maxval)`, as `keras.random.randint(..., seed=seed)`, on `device`."""
        seed = self.generator if seed is None else seed
        if device is None or torch.device(device).type == "cpu" or torch.compiler.is_compiling():
            values = randint(shape, minval, maxval, dtype=dtype, seed=seed)
            return values if device is None else values.to(device, non_blocking=True)
        return torch.randint(minval, maxval, tuple(shape),
                             generator=self._device_generator(device, seed), device=device,
                             dtype=getattr(torch, dtype))

    def beta(self, shape, alpha, device=None, seed=None):
        """`Beta(alpha, alpha)` numbers, as `keras.random.beta(shape, alpha, alpha, seed=seed)`
        on the CPU (Keras's numbers), drawn with a device generator on other devices."""
        seed = self.generator if seed is None else seed
        if torch.compiler.is_compiling():  # (no `with torch.device` in a compiled graph)
            values = beta(shape, alpha, alpha, seed=seed)
            return values if device is None else values.to(device)
        if device is None or torch.device(device).type == "cpu":
            with torch.device("cpu"):
                values = beta(shape, alpha, alpha, seed=seed)
            return values if device is None else values.to(device, non_blocking=True)
        if isinstance(alpha, torch.Tensor):
            concentration = alpha.to(device).expand(tuple(shape) + (2,))
        else:
            concentration = torch.full(tuple(shape) + (2,), float(alpha), device=device)
        values = torch._sample_dirichlet(concentration, generator=self._device_generator(device, seed))
        return values.select(-1, 0)

    def gamma(self, shape, alpha, device=None, seed=None):
        """`Gamma(alpha)` numbers, as `keras.random.gamma(shape, alpha, seed=seed)` on the CPU,
        drawn with a device generator on other devices."""
        seed = self.generator if seed is None else seed
        if torch.compiler.is_compiling():  # (no `with torch.device` in a compiled graph)
            values = gamma(shape, alpha, seed=seed)
            return values if device is None else values.to(device)
        if device is None or torch.device(device).type == "cpu":
            with torch.device("cpu"):
                values = gamma(shape, alpha, seed=seed)
            return values if device is None else values.to(device, non_blocking=True)
        alpha = torch.full(tuple(shape), float(alpha), device=device)
        return torch._standard_gamma(alpha, generator=self._device_generator(device, seed))

    def host_generator(self, seed=None):
        """A CPU `torch.Generator` for one Keras-seeded draw (what `keras.random` uses on the
        CPU). Numbers drawn from it live on the host, so reading them (to choose which
        operation runs) never waits for the device."""
        generator = torch.Generator()
        generator.manual_seed(torch_seed(self.generator if seed is None else seed))
        return generator

    def _device_generator(self, device, seed):
        """A device generator seeded for one draw from `seed` (reseeding a kept generator is a
        host-side call: no kernel, no sync). `None` on `meta` (shape inference): nothing is
        drawn and the seed state does not advance."""
        if torch.device(device).type == "meta":
            return None
        generators = self.__dict__.setdefault("_device_generators", {})
        generator = generators.get(device)
        if generator is None:
            generator = generators[device] = torch.Generator(device=device)
        generator.manual_seed(seed.draw_int())
        return generator

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "seed": self.seed})
        if self.bounding_box_format is not None:
            config["bounding_box_format"] = self.bounding_box_format
        return config
