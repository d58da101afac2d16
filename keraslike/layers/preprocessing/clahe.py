"""ContrastLimitedAdaptiveHistogramEqualization (CLAHE), as Keras 3's layer computes it.

Per image and channel: the image is cut into `tile_grid_size` tiles (padded at the bottom and
right by repeating the last row / column, as Keras's torch backend pads), each tile's 256-bin
histogram is clipped at `clip_limit * tile_pixels / 256` with the excess spread evenly over
all bins, its normalized cumulative histogram is the tile's mapping, and each pixel takes
the bilinear interpolation of the mappings of the four nearest tile centers.

Two facts of Keras 3.15's torch backend are reproduced on purpose, so the numbers are Keras's:
the padding repeats edge pixels (its `pad(mode="symmetric")` is `"replicate"`), and the
histograms are int64 counts, so the clip limit is truncated to an integer (a tile of fewer
than `256 / clip_limit` pixels is clipped to zero: the mapping becomes the identity).
"""

import numpy as np
import torch

from keraslike.layers.layer import Layer
from keraslike.layers.layer_utils import is_int, layer_error, standardize_data_format

_BINS = 256


def _float32(value):
    """`value` rounded to float32, as a Python float (Keras computes the ranges in float32)."""
    return float(np.float32(value))


def _span(low, high):
    """`high - low` computed in float32 (both already float32 values)."""
    return float(np.float32(high) - np.float32(low))


class ContrastLimitedAdaptiveHistogramEqualization(Layer):
    """Contrast Limited Adaptive Histogram Equalization (CLAHE).

    Equalizes the histogram of small regions (tiles) of each image channel rather than of the
    whole image, limits the contrast amplification in near-constant regions with
    `clip_limit`, and blends neighbouring tiles by bilinear interpolation so that no tile
    boundary shows. The layer is deterministic and applies in training and inference alike.
    Values are binned as integers on the 0-255 scale (after mapping `value_range` onto it);
    outputs keep the input's dtype (integer images stay integers, truncated).

    Args:
        value_range: The range `(low, high)` of the input values. Defaults to `(0, 255)`.
        clip_limit: Contrast limit; `clip_limit * tile_pixels / 256` is the most any
            histogram bin keeps. A value `<= 0` disables clipping. Defaults to 4.0.
        tile_grid_size: `(rows, columns)` of tiles. Defaults to `(8, 8)`.
        data_format: `"channels_last"` (default) or `"channels_first"`.

    Input shape:
        `(batch, height, width, channels)` or `(height, width, channels)` (channels_last), or
        `(batch, channels, height, width)` / `(channels, height, width)` (channels_first).

    Output shape:
        Same as the input.

    Example:

    >>> clahe = keras.layers.ContrastLimitedAdaptiveHistogramEqualization()
    >>> images = np.random.randint(0, 256, (1, 64, 64, 3)).astype("uint8")
    >>> clahe(images).shape
    torch.Size([1, 64, 64, 3])
    """

    _allow_non_tensor_positional_args = True  # Python lists, as Keras's data layers

    def __init__(
        self,
        value_range=(0, 255),
        clip_limit=4.0,
        tile_grid_size=(8, 8),
        data_format=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(value_range, (list, tuple)) or len(value_range) != 2:
            raise layer_error(
                self,
                "`value_range` must be a list or tuple of two numbers (low, high). "
                f"Received: value_range={value_range!r}",
            )
        if (not isinstance(tile_grid_size, (list, tuple)) or len(tile_grid_size) != 2
                or not all(is_int(n) and n > 0 for n in tile_grid_size)):
            raise layer_error(
                self,
                "`tile_grid_size` must be a tuple of two positive integers (rows, columns). "
                f"Received: tile_grid_size={tile_grid_size!r}",
            )
        self.value_range = value_range
        self.clip_limit = clip_limit
        self.tile_grid_size = tile_grid_size
        self.data_format = standardize_data_format(self, data_format)

    def call(self, inputs):
        if not isinstance(inputs, torch.Tensor):
            inputs = torch.as_tensor(np.asarray(inputs))
        if inputs.ndim not in (3, 4):
            raise layer_error(
                self,
                "expected images of rank 3 (unbatched) or 4 (batched). "
                f"Received: inputs.shape={tuple(inputs.shape)}",
            )
        images = inputs if inputs.ndim == 4 else inputs.unsqueeze(0)
        if self.data_format == "channels_last":
            images = images.permute(0, 3, 1, 2)  # (B, C, H, W)
        out = self._equalize(images).to(inputs.dtype)
        if self.data_format == "channels_last":
            out = out.permute(0, 2, 3, 1)
        return out if inputs.ndim == 4 else out.squeeze(0)

    def _equalize(self, images):
        """CLAHE of `(B, C, H, W)` images: float32 results in `value_range`."""
        low, high = (_float32(v) for v in self.value_range)
        identity_range = low == 0.0 and high == 255.0
        if not identity_range:  # to the 0-255 scale, in Keras's float32 order of operations
            images = (images.to(torch.float32) - low) / _span(low, high) * 255.0
        pixels = images.to(torch.int32).clamp(0, _BINS - 1)  # (B, C, H, W) bin of each pixel
        table = self._tile_mappings(pixels)  # (B, C, gh + 2, gw + 2, 256)
        out = self._interpolate(table, pixels)
        if not identity_range:
            out = out / 255.0 * _span(low, high) + low
        return out

    def _tile_mappings(self, pixels):
        """Each tile's clipped, normalized cumulative histogram; a ring of copied edge tiles
        around them, so that pixels near the border interpolate towards their own tile."""
        batch, channels, height, width = pixels.shape
        grid_h, grid_w = self.tile_grid_size
        tile_h, tile_w = -(-height // grid_h), -(-width // grid_w)
        rows = torch.arange(tile_h * grid_h, device=pixels.device).clamp(max=height - 1)
        cols = torch.arange(tile_w * grid_w, device=pixels.device).clamp(max=width - 1)
        padded = pixels.index_select(2, rows).index_select(3, cols)  # edge-padded
        tiles = padded.reshape(batch, channels, grid_h, tile_h, grid_w, tile_w)
        tiles = tiles.permute(0, 1, 2, 4, 3, 5).reshape(-1, tile_h * tile_w)  # (tiles, pixels)
        offsets = torch.arange(tiles.shape[0], device=pixels.device)[:, None] * _BINS
        index = (tiles.long() + offsets).reshape(-1)
        counts = torch.zeros(tiles.shape[0] * _BINS, dtype=torch.int64, device=pixels.device)
        counts.scatter_add_(0, index, torch.ones_like(index))
        hist = counts.reshape(batch, channels, grid_h, grid_w, _BINS)
        area = tile_h * tile_w
        if self.clip_limit > 0:
            # Keras's torch backend counts in int64, so its limit is truncated to an integer.
            limit = int(self.clip_limit * area / 256.0)
            clipped = hist.clamp(0, limit)
            excess = (hist - clipped).sum(-1, keepdim=True)
            hist = clipped.to(torch.float32) + excess.to(torch.float32) / 256.0
        else:
            hist = hist.to(torch.float32)  # integer counts: float32 sums stay exact
        cdf = hist.cumsum(-1)
        cdf_min = cdf.amin(-1, keepdim=True)
        denominator = float(area) - cdf_min
        denominator = torch.where(denominator == 0, torch.ones_like(denominator), denominator)
        table = ((cdf - cdf_min) * 255.0 / denominator).clamp(0, 255)
        # Edge tiles repeated once on every side: (B, C, gh + 2, gw + 2, 256).
        table = torch.cat([table[:, :, :1], table, table[:, :, -1:]], dim=2)
        return torch.cat([table[:, :, :, :1], table, table[:, :, :, -1:]], dim=3)

    def _interpolate(self, table, pixels):
        """Bilinear blend, per pixel, of the mappings of the four nearest tile centers."""
        batch, channels, height, width = pixels.shape
        grid_h, grid_w = self.tile_grid_size
        tile_h, tile_w = -(-height // grid_h), -(-width // grid_w)
        device = pixels.device
        y0, y1, wy = _neighbours(height, tile_h, grid_h, device)  # (H,) each
        x0, x1, wx = _neighbours(width, tile_w, grid_w, device)  # (W,) each
        # Flat indices into `table`: ((b * C + c) * (gh+2) + y) * (gw+2) + x) * 256 + pixel.
        stride_x = _BINS
        stride_y = stride_x * (grid_w + 2)
        stride_bc = stride_y * (grid_h + 2)
        base = torch.arange(batch * channels, device=device).reshape(batch, channels, 1, 1)
        base = base * stride_bc + pixels.long()
        flat = table.reshape(-1)
        row0, row1 = (y0 * stride_y)[:, None], (y1 * stride_y)[:, None]  # (H, 1)
        col0, col1 = x0 * stride_x, x1 * stride_x  # (W,)
        nw, ne = flat[base + row0 + col0], flat[base + row0 + col1]
        sw, se = flat[base + row1 + col0], flat[base + row1 + col1]
        wy = wy[:, None]  # (H, 1); wx (W,)
        top = nw * (1.0 - wx) + ne * wx
        bottom = sw * (1.0 - wx) + se * wx
        return top * (1.0 - wy) + bottom * wy

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "value_range": self.value_range,
                "clip_limit": self.clip_limit,
                "tile_grid_size": self.tile_grid_size,
                "data_format": self.data_format,
            }
        )
        return config


def _neighbours(size, tile, grid, device):
    """For each of `size` pixel positions: the indices (into the ring-padded tile table) of
    the tile centers before and after it, and the weight of the one after."""
    position = (torch.arange(size, dtype=torch.float32, device=device) - tile / 2.0) / tile + 1.0
    first = torch.floor(position)
    weight = position - first
    before = first.clamp(0, grid + 1).long()
    after = (first + 1.0).clamp(0, grid + 1).long()
    return before, after, weight
