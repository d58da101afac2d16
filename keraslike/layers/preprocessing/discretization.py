"""Discretization: buckets numbers by boundaries, given or learned by `adapt` (Keras 3's
approximate-quantile summary, so adapted boundaries equal Keras's)."""

import numpy as np
import torch

from keraslike.graph.shape_inference import torch_dtype
from keraslike.layers.preprocessing._host import HostDataLayer, iterate_batches, to_number_tensor
from keraslike.layers.preprocessing.category_encoding import (
    ENCODE_MODES,
    check_output_mode,
    encode_categorical,
)


def _summary_of(values, epsilon):
    """A `(2, n)` summary of `values`: every `step`-th sorted value and its weight `step`."""
    values = np.sort(np.reshape(values, [-1]))
    step = max(values.size * epsilon, 1)  # about 1/epsilon points
    picked = values[int(step - 1) :: int(step)]
    return np.stack([picked, np.full_like(picked, step)])


def _compress(summary, epsilon):
    """Re-samples a summary at the cumulative-weight fractions `epsilon, 2*epsilon, ..., 1`."""
    if summary.shape[1] * epsilon < 1:
        return summary
    targets = np.arange(0.0, 1.0, epsilon) + epsilon
    cumulative = summary[1].cumsum()
    fractions = cumulative / cumulative[-1]
    points = np.interp(targets, fractions, summary[0])
    cumulative_at = np.interp(targets, fractions, cumulative)
    weights = np.diff(cumulative_at, prepend=0.0)
    return np.stack((points, weights)).astype("float32")


def _merge(previous, new, epsilon):
    merged = np.concatenate((previous, new), axis=1)
    merged = merged[:, np.argsort(merged[0])]
    return _compress(merged, epsilon)


class Discretization(HostDataLayer):
    """Maps numbers to the index of the bucket they fall in.

    Bucket `i` holds `bin_boundaries[i-1] <= x < bin_boundaries[i]`. The boundaries are given
    or learned by `adapt()` as approximate quantiles (`num_bins` buckets, precision
    `epsilon`), with Keras 3's algorithm.

    Args:
        bin_boundaries: Sorted list of boundaries (`len + 1` buckets).
        num_bins: Number of buckets to learn with `adapt()`.
        epsilon: Error tolerance of the quantile summary (default 0.01).
        output_mode: `"int"` (default, int32 ids), `"one_hot"`, `"multi_hot"` or `"count"`.
        sparse: Only `False`.

    Example:

    >>> layer = keras.layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0])
    >>> layer(torch.tensor([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]]))
    tensor([[0, 2, 3, 1], [1, 3, 2, 1]], dtype=torch.int32)
    """

    def __init__(
        self,
        bin_boundaries=None,
        num_bins=None,
        epsilon=0.01,
        output_mode="int",
        sparse=False,
        dtype=None,
        name=None,
    ):
        super().__init__(name=name, dtype=dtype)
        output_mode = check_output_mode("Discretization", output_mode, ("int",) + ENCODE_MODES)
        if sparse:
            raise ValueError(f"`sparse=True` is not supported on torch. Received: sparse={sparse}")
        if num_bins is not None and num_bins < 0:
            raise ValueError(
                f"`num_bins` must be greater than or equal to 0. Received: `num_bins={num_bins}`"
            )
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError(
                "Both `num_bins` and `bin_boundaries` should not be set. Received: "
                f"`num_bins={num_bins}` and `bin_boundaries={bin_boundaries}`"
            )
        if num_bins is None and bin_boundaries is None:
            raise ValueError("You need to set either `num_bins` or `bin_boundaries`.")
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.output_mode = output_mode
        self.sparse = sparse
        self.summary = None if bin_boundaries else np.array([[], []], dtype="float32")
        self.register_buffer("_boundaries", None, persistent=False)
        self.bin_boundaries = bin_boundaries

    @property
    def bin_boundaries(self):
        return self._bin_boundaries

    @bin_boundaries.setter
    def bin_boundaries(self, value):
        self._bin_boundaries = None if value is None else list(value)
        if value is not None:
            # Not a weight: the boundaries are in the config, as in Keras.
            self.register_buffer(
                "_boundaries",
                torch.tensor(self._bin_boundaries, dtype=torch.float32),
                persistent=False,
            )

    def adapt(self, data, steps=None):
        """Learns `num_bins` quantile boundaries from `data` (array, tensor or iterable of
        batches)."""
        if self.num_bins is None:
            raise ValueError(
                "Cannot adapt a Discretization layer that has been initialized with "
                "`bin_boundaries`, use `num_bins` instead."
            )
        self.reset_state()
        for batch in iterate_batches(data, steps, lists_are_data=False):
            self.update_state(batch)
        self.finalize_state()

    def update_state(self, data):
        data = to_number_tensor(self, data, "data").detach().cpu().numpy().astype("float32")
        self.summary = _merge(_summary_of(data, self.epsilon), self.summary, self.epsilon)

    def finalize_state(self):
        if self.num_bins is None:
            return
        self.bin_boundaries = _compress(self.summary, 1.0 / self.num_bins)[0, :-1].tolist()

    def reset_state(self):
        if self.num_bins is not None:
            self.summary = np.array([[], []], dtype="float32")

    def call(self, inputs):
        if self._bin_boundaries is None:
            raise ValueError(
                "You need to either pass the `bin_boundaries` argument at construction time or "
                "call `adapt(dataset)` before you can start using the `Discretization` layer."
            )
        x = to_number_tensor(self, inputs)
        boundaries = self._boundaries.to(device=x.device)
        if x.is_floating_point():
            boundaries = boundaries.to(x.dtype)
        else:
            x = x.to(boundaries.dtype)
        indices = torch.bucketize(x, boundaries, right=True)
        if self.output_mode == "int":
            return indices.to(torch.int32)
        return encode_categorical(
            indices,
            self.output_mode,
            len(self._bin_boundaries) + 1,
            torch_dtype(self.compute_dtype),
        )

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        depth = len(self._bin_boundaries) + 1 if self._bin_boundaries is not None else self.num_bins
        if self.output_mode == "one_hot":
            if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
                return tuple(input_shape[:-1]) + (depth,)
            return tuple(input_shape) + (depth,)
        if input_shape and len(input_shape) >= 2:
            return (input_shape[0],) + tuple(input_shape[2:]) + (depth,)
        return (depth,)

    def get_config(self):
        return {
            "bin_boundaries": self._bin_boundaries,
            "num_bins": self.num_bins,
            "epsilon": self.epsilon,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "name": self.name,
            "dtype": self.dtype,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("bin_boundaries") is not None and config.get("num_bins") is not None:
            boundaries = config.pop("bin_boundaries")
            layer = cls(**config)
            layer.bin_boundaries = boundaries
            return layer
        return cls(**config)
