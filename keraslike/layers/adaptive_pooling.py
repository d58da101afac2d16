"""Adaptive pooling layers: average / max pooling to a fixed output size (Keras 3.15's
`AdaptiveAveragePooling1D/2D/3D`, `AdaptiveMaxPooling1D/2D/3D`; torch's adaptive pooling)."""

from keraslike.backend import config as backend_config
from keraslike.layers.layer import Layer
from keraslike.ops.nn_more import adaptive_average_pool, adaptive_max_pool


def _output_size(rank, output_size):
    if isinstance(output_size, int) and not isinstance(output_size, bool):
        return (output_size,) * rank
    if isinstance(output_size, (tuple, list)) and len(output_size) == rank:
        return tuple(output_size)
    names = {1: "integer or (length,) tuple", 2: "integer or (height, width) tuple",
             3: "integer or (depth, height, width) tuple"}
    raise TypeError(
        f"`output_size` must be an {names[rank]}. Received: {output_size} of type "
        f"{type(output_size)}"
    )


class _AdaptivePooling(Layer):
    _RANK = None
    _MODE = None

    def __init__(self, output_size, data_format=None, **kwargs):
        size = _output_size(self._RANK, output_size)
        super().__init__(**kwargs)
        self.output_size = size
        self.data_format = data_format or backend_config.image_data_format()
        if self.data_format not in ("channels_first", "channels_last"):
            raise ValueError(
                f"Invalid data_format: {self.data_format}. Expected 'channels_first' or "
                "'channels_last'."
            )

    def call(self, inputs):
        pool = adaptive_average_pool if self._MODE == "average" else adaptive_max_pool
        return pool(inputs, output_size=self.output_size, data_format=self.data_format)

    def compute_output_shape(self, input_shape):
        if self.data_format == "channels_last":
            return (input_shape[0], *self.output_size, input_shape[-1])
        return (input_shape[0], input_shape[1], *self.output_size)

    def get_config(self):
        config = super().get_config()
        config.update({"output_size": self.output_size, "data_format": self.data_format})
        return config


def _doc(kind, rank):
    dims = {1: "steps", 2: "height, width", 3: "depth, height, width"}[rank]
    return f"""Adaptive {kind} pooling for {rank}D inputs: output spatial size `output_size`.

    Each output cell pools the input window torch's `adaptive_{'avg' if kind == 'average'
    else 'max'}_pool{rank}d` assigns it (as Keras 3 on torch).

    Args:
        output_size: An int or a tuple of {rank} ints ({dims}).
        data_format: `"channels_last"` (default from `keras.config.image_data_format()`) or
            `"channels_first"`.

    Input shape:
        `(batch, {dims}, channels)` (channels_last).

    Output shape:
        `(batch, *output_size, channels)`.
    """


class AdaptiveAveragePooling1D(_AdaptivePooling):
    __doc__ = _doc("average", 1)
    _RANK, _MODE = 1, "average"


class AdaptiveAveragePooling2D(_AdaptivePooling):
    __doc__ = _doc("average", 2)
    _RANK, _MODE = 2, "average"


class AdaptiveAveragePooling3D(_AdaptivePooling):
    __doc__ = _doc("average", 3)
    _RANK, _MODE = 3, "average"


class AdaptiveMaxPooling1D(_AdaptivePooling):
    __doc__ = _doc("max", 1)
    _RANK, _MODE = 1, "max"


class AdaptiveMaxPooling2D(_AdaptivePooling):
    __doc__ = _doc("max", 2)
    _RANK, _MODE = 2, "max"


class AdaptiveMaxPooling3D(_AdaptivePooling):
    __doc__ = _doc("max", 3)
    _RANK, _MODE = 3, "max"
