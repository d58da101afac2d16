"""SpectralNormalization: a wrapper that keeps a layer's kernel at spectral norm ~1 (Keras 3's)."""

import torch

from keraslike import initializers
from keraslike.graph.shape_inference import torch_dtype
from keraslike.layers.input_spec import InputSpec
from keraslike.layers.layer import Layer, WeightSpec
from keraslike.layers.recurrent._serialization import (
    build_sublayer,
    deserialize_layer,
    serialize_layer,
)

_EPSILON = 1e-7  # Keras's `backend.epsilon()`, the floor of the norm in `ops.normalize`


def _l2_normalize(x):
    """`x / max(||x||, epsilon)` over all elements, as Keras's `normalize(x, axis=None)`."""
    return x * torch.clamp(torch.rsqrt((x * x).sum()), max=1.0 / _EPSILON)


class SpectralNormalization(Layer):
    """Performs spectral normalization on the weights of a target layer.

    In training, each call runs `power_iterations` steps of power iteration on the kernel
    (reshaped to `(-1, kernel.shape[-1])`, Keras layout) from the persistent vector `vector_u`,
    then divides the wrapped layer's kernel *in place* by its estimated largest singular value
    (as Keras does: the kernel variable itself is rescaled, gradients flow to it unchanged) and
    calls the layer. An all-zero kernel is left as it is. In inference the layer is called with
    its kernel as stored. The update runs on the kernel's device with no host synchronization.

    Weights, in Keras's order: the wrapped layer's `kernel` (listed first, as Keras's wrapper
    tracks it), `vector_u` `(1, kernel.shape[-1])` (non-trainable, initialized from a truncated
    normal with stddev 0.02), then the wrapped layer's other weights.

    Args:
        layer: A `keras.layers.Layer` with a `kernel` (`Dense`, `Conv2D`, ...) or `embeddings`
            (`Embedding`) weight.
        power_iterations: Number of power-iteration steps per training call (> 0).
        **kwargs: Base layer keyword arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: The wrapped layer's input.
        training: Whether to normalize (default: the module's `training` flag; Keras records
            `training=False` in its graph nodes).

    Output: the wrapped layer's; floating inputs are cast to the compute dtype and the output
    to that dtype too (Keras also casts an `Embedding`'s float output to the integer input dtype, returning
    truncated numbers; keraslike keeps the float output).

    Example:

    >>> dense = keras.layers.SpectralNormalization(keras.layers.Dense(10))
    >>> dense(np.random.rand(2, 4)).shape
    torch.Size([2, 10])
    """

    _keras_call_training_default = False  # Keras's `call(inputs, training=False)`

    def __init__(self, layer, power_iterations=1, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                f"Layer {layer} supplied to Wrapper isn't a supported layer type. Please ensure "
                "wrapped layer is a valid Keras layer."
            )
        super().__init__(**kwargs)
        if not isinstance(power_iterations, int) or power_iterations <= 0:
            raise ValueError(
                f'Layer "{self.name}": `power_iterations` should be greater than zero. '
                f"Received: `power_iterations={power_iterations}`"
            )
        self.layer = layer
        self.power_iterations = power_iterations

    def build(self, input_shape):
        if not self.layer.built:
            build_sublayer(self.layer, input_shape)
        self.input_spec = InputSpec(min_ndim=1, axes={-1: input_shape[-1]})
        spec = next((s for s in self.layer._weight_specs if s.name == "kernel"), None)
        if spec is None:
            spec = next((s for s in self.layer._weight_specs if s.name == "embeddings"), None)
        if spec is None:
            raise ValueError(
                f"{type(self.layer).__name__} object has no attribute 'kernel' nor 'embeddings'"
            )
        self._kernel_attr, self._kernel_layout = spec.attr, spec.layout
        kernel = spec.layout.to_keras(self.layer._find_tensor(spec.attr))
        self.kernel_shape = tuple(kernel.shape)
        # The wrapped kernel is also this layer's first weight, as in Keras (which tracks it as
        # its own variable): a spec pointing into the sublayer, without its regularizer or
        # constraint (those stay with the sublayer's own spec, applied once).
        self._weight_specs.insert(0, WeightSpec("kernel", f"layer.{spec.attr}", spec.layout,
                                                trainable=spec.trainable))
        self.add_weight(
            shape=(1, self.kernel_shape[-1]),
            initializer=initializers.TruncatedNormal(stddev=0.02),
            trainable=False,
            name="vector_u",
            dtype=str(kernel.dtype).replace("torch.", ""),
        )
        self.built = True

    def _stored_kernel(self):
        return self.layer._find_tensor(self._kernel_attr)

    @torch.no_grad()
    def normalized_weights(self):
        """Returns `(vector_u, kernel)` after the power iteration: the new `vector_u` and the
        kernel divided by its estimated spectral norm (Keras layout), without assigning them."""
        stored = self._stored_kernel()
        kernel = self._kernel_layout.to_keras(stored)
        weights = kernel.reshape(-1, self.kernel_shape[-1])
        vector_u = self.vector_u
        for _ in range(self.power_iterations):
            vector_v = _l2_normalize(vector_u @ weights.T)  # (1, rows)
            vector_u = _l2_normalize(vector_v @ weights)  # (1, cols)
        sigma = (vector_v @ weights) @ vector_u.T  # (1, 1)
        return vector_u.to(self.vector_u.dtype), (kernel / sigma[0, 0]).to(kernel.dtype)

    @torch.no_grad()
    def normalize_weights(self):
        """Runs the power iteration and rescales the wrapped kernel in place (Keras's training
        update); an all-zero kernel and its `vector_u` are left as they are."""
        stored = self._stored_kernel()
        vector_u, kernel = self.normalized_weights()
        all_zero = (stored == 0).all()
        self.vector_u.copy_(torch.where(all_zero, self.vector_u, vector_u))
        stored.copy_(torch.where(all_zero, stored, self._kernel_layout.to_torch(kernel)))

    def call(self, inputs, training=None):
        if training is None:
            training = self.training
        if training:
            self.normalize_weights()
        if not inputs.is_floating_point():
            return self.layer(inputs)
        # Keras autocasts floating inputs to the compute dtype, and the output to the inputs'.
        inputs = inputs.to(torch_dtype(self.compute_dtype))
        return self.layer(inputs).to(inputs.dtype)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config["layer"] = serialize_layer(self.layer)
        config["power_iterations"] = self.power_iterations
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        layer = deserialize_layer(config.pop("layer"), custom_objects)
        return cls(layer, **config)
