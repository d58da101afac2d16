"""RMSNormalization: `x / sqrt(mean(x**2) + epsilon) * scale` (Keras 3's layer)."""

from keraslike.layers.layer import Layer
from keraslike.ops.nn_more import rms_normalization


class RMSNormalization(Layer):
    """Root-mean-square normalization over `axis`, scaled by a learned `scale` (ones init).

    Args:
        axis: Int or list of ints, the axes normalized (default -1).
        epsilon: Small float added to the mean square (default 1e-6).

    Input shape: any. Output shape: same as the input.

    Example:

    >>> layer = keras.layers.RMSNormalization()
    >>> layer(np.random.rand(1, 10)).shape
    torch.Size([1, 10])
    """

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.epsilon = epsilon

    def build(self, input_shape):
        if isinstance(self.axis, (list, tuple)):
            self.axis = sorted(self.axis)
            shape = tuple(input_shape[dim] for dim in self.axis)
        else:
            shape = (input_shape[self.axis],)
            self.axis = [self.axis]
        self.add_weight(name="scale", shape=shape, initializer="ones")
        self.built = True

    def call(self, inputs):
        return rms_normalization(inputs, scale=self.scale, axis=self.axis, epsilon=self.epsilon)

    def compute_output_shape(self, input_shape):
        axes = [self.axis] if isinstance(self.axis, int) else self.axis
        for axis in axes:
            if axis >= len(input_shape) or axis < -len(input_shape):
                raise ValueError(
                    f"Axis {axis} is out of bounds for input shape {input_shape}. "
                    f"Received: axis={self.axis}"
                )
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"axis": self.axis, "epsilon": self.epsilon})
        return config
