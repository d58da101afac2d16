"""Filter and tone augmentations: RandomSharpness, RandomGaussianBlur, RandomPosterization and
Equalization (Keras 3's draws and formulas; each a few batched torch kernels, no host reads)."""

import torch
import torch.nn.functional as F

from keraslike.layers.preprocessing.augmentation_base import BaseAugmentation, constant
from keraslike.layers.preprocessing.color import _rescale, _value_range


_A, _B = 1.0 / 13.0, 5.0 / 13.0
_SMOOTH_3X3 = ((_A, _A, _A), (_A, _B, _A), (_A, _A, _A))  # Keras's sharpness blur kernel


def _factor_range(layer_name, arg, factor, bounds=(0, 1)):
    """Keras's `_set_factor_by_name`: a number `f` -> `(max(-|f|, low), |f|)`, a pair sorted."""
    low, high = bounds
    message = (
        f"Layer {layer_name}: the `{arg}` argument should be a number (or a list of two numbers) "
        f"in the range [{low}, {high}]. Received: {arg}={factor}"
    )
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or factor[0] > high or factor[1] < low:
            raise ValueError(message)
        lower, upper = sorted(factor)
    elif isinstance(factor, (int, float)) and not isinstance(factor, bool):
        if factor < low or factor > high:
            raise ValueError(message)
        lower, upper = max(-abs(factor), low), abs(factor)
    else:
        raise ValueError(message)
    return lower, upper


def _nchw(images, data_format):
    return images.permute(0, 3, 1, 2) if data_format == "channels_last" else images


def _from_nchw(images, data_format):
    return images.permute(0, 2, 3, 1) if data_format == "channels_last" else images


def _probability_mask(layer, images, seed):
    """Keras's per-image coin: `uniform(0, 1) < uniform(factor)`, shaped `(B, 1, 1, 1)`."""
    b = images.shape[0]
    probability = layer.uniform((b,), layer.factor[0], layer.factor[1], images.device, seed)
    threshold = layer.uniform((b,), 0.0, 1.0, images.device, seed)
    return (threshold < probability).view(b, 1, 1, 1)


class RandomSharpness(BaseAugmentation):
    """Randomly sharpens or blurs images.

    Each image is blended with a smoothed copy (3x3 kernel, centre weight 5/13) by a factor
    `f` drawn in `factor`: `x + (1 - 2 f) * (smooth(x) - x)`. `f = 0` blurs fully, `0.5` is a
    no-op, `1` sharpens beyond the original. Outputs are clipped to `value_range`.

    Args:
        factor: A float in `[0, 1]` (factors in `[0, factor]`) or a pair `(lower, upper)`.
        value_range: The range of the pixel values (default `(0, 255)`).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: Integer seed.
    """

    _KEEPS_GEOMETRY = True  # pixel values only: bounding boxes pass through, as in Keras
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(factor=factor, data_format=data_format, seed=seed, **kwargs)
        self.value_range = _value_range("RandomSharpness", value_range)

    def get_random_transformation(self, images, seed=None):
        return self.uniform((images.shape[0],), self.factor[0], self.factor[1],
                            images.device, seed)

    def apply_transformation(self, images, factor):
        x = _nchw(images, self.data_format)
        channels = x.shape[1]
        kernel = constant(_SMOOTH_3X3, x.device, x.dtype).expand(channels, 1, 3, 3)
        smoothed = _from_nchw(F.conv2d(x, kernel, padding=1, groups=channels), self.data_format)
        factor = (factor * 2).to(images.dtype).view(-1, 1, 1, 1)
        out = images + (1.0 - factor) * (smoothed - images)
        return out.clamp(self.value_range[0], self.value_range[1])

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "value_range": self.value_range})
        return config


def _odd_kernel_size(value):
    message = f"kernel_size must be an odd number. Received: kernel_size={value}"
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(
                "The `kernel_size` argument should be a number (or a list of two numbers). "
                f"Received: kernel_size={value}"
            )
        if value[0] % 2 == 0 or value[1] % 2 == 0:
            raise ValueError(message)
        return value[0], value[1]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value % 2 == 0:
            raise ValueError(message)
        return value, value
    raise ValueError(message)


def _gaussian_kernel_1d(size, sigma):
    """Normalized Gaussian taps for a tensor `sigma` (no host read)."""
    x = torch.arange(size, dtype=sigma.dtype, device=sigma.device) - (size - 1) / 2
    kernel = torch.exp(-0.5 * (x / sigma) ** 2)
    return kernel / kernel.sum()


class RandomGaussianBlur(BaseAugmentation):
    """Randomly blurs images with a Gaussian kernel.

    Each image is blurred with probability drawn in `factor`; one pair of standard deviations
    (drawn in `sigma`) serves the whole batch, as in Keras. Outputs are clipped to
    `value_range`.

    Args:
        factor: Probability of blurring an image, a float in `[0, 1]` (default 1.0) or a pair.
        kernel_size: Odd integer or pair of odd integers (default 3).
        sigma: Standard deviation range, a float in `[0, 1]` (default 1.0) or a pair.
        value_range: The range of the pixel values (default `(0, 255)`).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: Integer seed.
    """

    _KEEPS_GEOMETRY = True  # pixel values only: bounding boxes pass through, as in Keras
    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor=1.0, kernel_size=3, sigma=1.0, value_range=(0, 255),
                 data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self._set_factor(factor)
        self.kernel_size = _odd_kernel_size(kernel_size)
        self.sigma = _factor_range("RandomGaussianBlur", "sigma", sigma)
        self.value_range = value_range

    def get_random_transformation(self, images, seed=None):
        apply = _probability_mask(self, images, seed)
        sigma = self.uniform((2,), self.sigma[0], self.sigma[1], images.device, seed) + 1e-6
        return apply, sigma

    def apply_transformation(self, images, transformation):
        apply, sigma = transformation
        x = _nchw(images, self.data_format)
        channels = x.shape[1]
        size = self.kernel_size
        sigma = sigma.to(x.dtype)
        # Keras pairs kernel_size[0]/sigma[0] with the columns (outer(k_y, k_x)).
        kernel = torch.outer(_gaussian_kernel_1d(size[1], sigma[1]),
                             _gaussian_kernel_1d(size[0], sigma[0]))
        kernel = kernel.reshape(1, 1, size[0], size[1]).expand(channels, 1, size[0], size[1])
        blurred = F.conv2d(x, kernel, padding=int(size[0] // 2), groups=channels)
        blurred = _from_nchw(blurred, self.data_format)
        out = torch.where(apply, blurred, images)
        return out.clamp(self.value_range[0], self.value_range[1])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "factor": self.factor,
                "kernel_size": self.kernel_size,
                "sigma": self.sigma,
                "value_range": self.value_range,
            }
        )
        return config


class RandomPosterization(BaseAugmentation):
    """Keeps a random number of bits (in `factor`) of each 8-bit colour channel.

    Args:
        factor: Integer in `[1, 8]` (bits in `[1, factor)`, as Keras draws them) or a pair;
            `(n, n)` always keeps `n` bits.
        value_range: The range of the pixel values (default `(0, 255)`).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        seed: Integer seed.
    """

    _KEEPS_GEOMETRY = True  # pixel values only: bounding boxes pass through, as in Keras
    _FACTOR_BOUNDS = (1, 8)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(factor=factor, data_format=data_format, seed=seed, **kwargs)
        self.value_range = _value_range("RandomPosterization", value_range)

    def get_random_transformation(self, images, seed=None):
        b = images.shape[0]
        if self.factor[0] != self.factor[1]:
            bits = self.randint((b,), self.factor[0], self.factor[1], images.device, seed,
                                dtype="uint8")
        else:
            bits = torch.full((b,), int(self.factor[0]), dtype=torch.uint8, device=images.device)
        return 8 - bits

    def apply_transformation(self, images, shift):
        shift = shift.view(-1, 1, 1, 1)
        x = _rescale(images, self.value_range, (0, 255)).to(torch.uint8)
        x = torch.bitwise_left_shift(torch.bitwise_right_shift(x, shift), shift)
        return _rescale(x.to(images.dtype), (0, 255), self.value_range)

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "value_range": self.value_range})
        return config


class Equalization(BaseAugmentation):
    """Equalizes the histogram of each colour channel (over the whole batch, as Keras).

    Values are binned into `bins` bins on the 0-255 scale; each channel is mapped through its
    normalized cumulative histogram. A channel whose values all fall in one bin is unchanged.
    Deterministic; applied when training (identity in inference), as Keras.

    Args:
        value_range: The range of the pixel values (default `(0, 255)`).
        bins: Number of histogram bins (default 256).
        data_format: `"channels_last"` (default) or `"channels_first"`.
    """

    _KEEPS_GEOMETRY = True  # pixel values only: bounding boxes pass through, as in Keras
    _USE_BASE_FACTOR = False

    def __init__(self, value_range=(0, 255), bins=256, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.bins = bins
        self.value_range = _value_range("Equalization", value_range)

    def apply_transformation(self, images, transformation):
        bins = self.bins
        axis = self.channel_axis
        low, high = self.value_range
        x = images.movedim(axis, 0)  # (C, B, H, W)
        scale = 255.0 / (high - low)
        x = x * scale + (0.0 - low * scale)  # to the 0-255 scale
        flat = x.reshape(x.shape[0], -1)
        index = (flat * (bins - 1) / 255.0).to(torch.int32).clamp(0, bins - 1).long()
        hist = torch.zeros(flat.shape[0], bins, dtype=torch.int64, device=x.device)
        hist.scatter_add_(1, index, torch.ones_like(index))
        cdf = hist.cumsum(1)
        # cdf at the first non-empty bin == the smallest positive cdf value.
        cdf_min = torch.where(cdf > 0, cdf, cdf[:, -1:]).amin(1, keepdim=True)
        denominator = cdf[:, -1:] - cdf_min
        denominator = torch.where(denominator == 0, torch.ones_like(denominator), denominator)
        table = ((cdf - cdf_min) * 255).to(torch.float32) / denominator.to(torch.float32)
        table = table.round().clamp(0, 255).to(x.dtype)
        lookup = (flat / 255.0 * (bins - 1)).clamp(0, bins - 1).to(torch.int32).long()
        equalized = torch.gather(table, 1, lookup)
        single_bin = (hist > 0).sum(1, keepdim=True) <= 1
        out = torch.where(single_bin, flat, equalized).reshape(x.shape)
        out = out * ((high - low) / 255.0) + low  # back to value_range
        return out.movedim(0, axis)

    def get_config(self):
        config = super().get_config()
        config.pop("seed")
        config.update({"bins": self.bins, "value_range": self.value_range})
        return config
