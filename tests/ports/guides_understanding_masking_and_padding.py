"""Port of keras-io `guides/understanding_masking_and_padding.py` (Scott Zhu and fchollet,
Keras 3 edition).

Changed: the guide's `np.random` calls -> a seeded generator, batch sizes 32 -> 8 and
sequence lengths 100 -> 12, prints -> asserts of what the guide prints (the masks), the last model called on its
input only (the guide passes a second array, which Keras 3 takes as `training` and rejects:
`got multiple values for argument 'training'`), the library
passed in as `keras`. Kept: `pad_sequences`, an Embedding's `mask_zero` mask and Masking's mask
on eager tensors (`_keras_mask`), masks through Sequential / Functional / a subclassed layer
passing `compute_mask` to an LSTM, TemporalSplit's `compute_mask` returning two masks,
CustomEmbedding's `compute_mask`, MyActivation's `supports_masking` propagation (the symbolic
`_keras_mask`), TemporalSoftmax reading the `mask` argument. Added: the masked models' outputs
from copied weights (compared with Keras's by the parity test) and a short `fit` of the
MyActivation model on padded sequences so the port returns a History.
"""

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the guide with `keras` (Keras 3 or keraslike); returns the added fit's History.

    `on_model(model)` is called on each model before it computes (the parity test copies
    Keras's initial weights in); `shuffle` goes to `fit`.
    """
    layers = keras.layers
    ops = keras.ops
    rng = np.random.default_rng(0)
    on_model = on_model or (lambda model: None)
    results = {}

    raw_inputs = [
        [711, 632, 71],
        [73, 8, 3215, 55, 927],
        [83, 91, 1, 645, 1253, 927],
    ]
    padded_inputs = keras.utils.pad_sequences(raw_inputs, padding="post")
    np.testing.assert_array_equal(
        padded_inputs, [[711, 632, 71, 0, 0, 0], [73, 8, 3215, 55, 927, 0], [83, 91, 1, 645, 1253, 927]])

    embedding = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)
    masked_output = embedding(padded_inputs)
    expected_mask = padded_inputs != 0
    np.testing.assert_array_equal(ops.convert_to_numpy(masked_output._keras_mask), expected_mask)

    masking_layer = layers.Masking()
    # Simulate the embedding lookup by expanding the 2D input to 3D,
    # with embedding dimension of 10.
    unmasked_embedding = ops.cast(ops.tile(ops.expand_dims(padded_inputs, axis=-1), [1, 1, 10]), "float32")

    masked_embedding = masking_layer(unmasked_embedding)
    np.testing.assert_array_equal(ops.convert_to_numpy(masked_embedding._keras_mask), expected_mask)

    model = keras.Sequential([layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True), layers.LSTM(32)])
    model.build((None, 6))
    on_model(model)
    results["sequential"] = {"out": model.predict(padded_inputs, verbose=0).ravel()}

    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)(inputs)
    outputs = layers.LSTM(32)(x)

    model = keras.Model(inputs, outputs)
    on_model(model)
    results["functional"] = {"out": model.predict(padded_inputs, verbose=0).ravel()}

    class MyLayer(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.embedding = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)
            self.lstm = layers.LSTM(32)

        def call(self, inputs):
            x = self.embedding(inputs)
            # Note that you could also prepare a `mask` tensor manually.
            # It only needs to be a boolean tensor
            # with the right shape, i.e. (batch_size, timesteps).
            mask = self.embedding.compute_mask(inputs)
            output = self.lstm(x, mask=mask)  # The layer will ignore the masked values
            return output

    layer = MyLayer()
    x = rng.random((8, 10)) * 100
    x = x.astype("int32")
    assert tuple(layer(x).shape) == (8, 32)

    class TemporalSplit(keras.layers.Layer):
        """Split the input tensor into 2 tensors along the time dimension."""

        def call(self, inputs):
            # Expect the input to be 3D and mask to be 2D, split the input tensor into 2
            # subtensors along the time axis (axis 1).
            return ops.split(inputs, 2, axis=1)

        def compute_mask(self, inputs, mask=None):
            # Also split the mask into 2 if it presents.
            if mask is None:
                return None
            return ops.split(mask, 2, axis=1)

    first_half, second_half = TemporalSplit()(masked_embedding)
    np.testing.assert_array_equal(ops.convert_to_numpy(first_half._keras_mask), expected_mask[:, :3])
    np.testing.assert_array_equal(ops.convert_to_numpy(second_half._keras_mask), expected_mask[:, 3:])

    class CustomEmbedding(keras.layers.Layer):
        def __init__(self, input_dim, output_dim, mask_zero=False, **kwargs):
            super().__init__(**kwargs)
            self.input_dim = input_dim
            self.output_dim = output_dim
            self.mask_zero = mask_zero

        def build(self, input_shape):
            self.embeddings = self.add_weight(
                shape=(self.input_dim, self.output_dim),
                initializer="random_normal",
                dtype="float32",
            )

        def call(self, inputs):
            inputs = ops.cast(inputs, "int32")
            return ops.take(self.embeddings, inputs)

        def compute_mask(self, inputs, mask=None):
            if not self.mask_zero:
                return None
            return ops.not_equal(inputs, 0)

    layer = CustomEmbedding(10, 32, mask_zero=True)
    x = rng.random((3, 10)) * 9
    x = x.astype("int32")

    y = layer(x)
    mask = layer.compute_mask(x)
    np.testing.assert_array_equal(ops.convert_to_numpy(mask), x != 0)
    np.testing.assert_array_equal(ops.convert_to_numpy(y._keras_mask), x != 0)

    class MyActivation(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            # Signal that the layer is safe for mask propagation
            self.supports_masking = True

        def call(self, inputs):
            return ops.relu(inputs)

    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)(inputs)
    x = MyActivation()(x)  # Will pass the mask along
    assert x._keras_mask is not None and tuple(x._keras_mask.shape) == (None, None), "Mask found"
    outputs = layers.LSTM(32)(x)  # Will receive the mask

    model = keras.Model(inputs, outputs)
    on_model(model)
    data = rng.integers(0, 5000, size=(8, 12))
    data[:, 7:] = 0
    results["activation"] = {"out": model.predict(data, verbose=0).ravel()}
    activation_model, activation_data = model, data

    class TemporalSoftmax(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def call(self, inputs, mask=None):
            assert mask is not None
            broadcast_float_mask = ops.expand_dims(ops.cast(mask, "float32"), -1)
            inputs_exp = ops.exp(inputs) * broadcast_float_mask
            inputs_sum = ops.sum(inputs_exp * broadcast_float_mask, axis=-1, keepdims=True)
            return inputs_exp / inputs_sum

    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(input_dim=10, output_dim=32, mask_zero=True)(inputs)
    x = layers.Dense(1)(x)
    outputs = TemporalSoftmax()(x)

    model = keras.Model(inputs, outputs)
    data = rng.integers(0, 10, size=(8, 12))
    data[:, 9:] = 0
    y = model(data)
    assert tuple(y.shape) == (8, 12, 1)

    # Added: a short fit of the MyActivation model (padded sequences, the mask reaching the LSTM).
    model = activation_model
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    on_model(model)
    history = model.fit(activation_data, rng.random((8, 32)), batch_size=4, epochs=3, shuffle=shuffle, verbose=0)
    history.results = results
    return history
