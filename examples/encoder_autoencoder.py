"""The Functional API guide: "Use the same graph of layers to define multiple models".

One stack of layers gives two models: an `encoder` (28x28x1 images -> 16-dim vectors) and an
end-to-end `autoencoder`. The encoder is a sub-graph of the autoencoder, so the two share weights:
training the autoencoder trains the encoder.

Run: python examples/encoder_autoencoder.py
"""

import numpy as np

import keraslike as keras
from keraslike import layers

from _common import check, mnist_like_data

keras.utils.set_random_seed(1337)

encoder_input = keras.Input(shape=(28, 28, 1), name="img")
x = layers.Conv2D(16, 3, activation="relu")(encoder_input)
x = layers.Conv2D(32, 3, activation="relu")(x)
x = layers.MaxPooling2D(3)(x)
x = layers.Conv2D(32, 3, activation="relu")(x)
x = layers.Conv2D(16, 3, activation="relu")(x)
encoder_output = layers.GlobalMaxPooling2D()(x)

encoder = keras.Model(encoder_input, encoder_output, name="encoder")
encoder.summary()

x = layers.Reshape((4, 4, 1))(encoder_output)
x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
x = layers.Conv2DTranspose(32, 3, activation="relu")(x)
x = layers.UpSampling2D(3)(x)
x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
decoder_output = layers.Conv2DTranspose(1, 3, activation="relu")(x)

autoencoder = keras.Model(encoder_input, decoder_output, name="autoencoder")
autoencoder.summary()

# --- Checks against the guide's summaries ------------------------------------------------------
check(encoder.count_params() == 18672, f"encoder has {encoder.count_params():,} params, guide: 18,672")
check(autoencoder.count_params() == 28241, f"autoencoder has {autoencoder.count_params():,} params, guide: 28,241")
expected_shapes = [
    ("img", (None, 28, 28, 1)),
    ("conv2d", (None, 26, 26, 16)),
    ("conv2d_1", (None, 24, 24, 32)),
    ("max_pooling2d", (None, 8, 8, 32)),
    ("conv2d_2", (None, 6, 6, 32)),
    ("conv2d_3", (None, 4, 4, 16)),
    ("global_max_pooling2d", (None, 16)),
    ("reshape", (None, 4, 4, 1)),
    ("conv2d_transpose", (None, 6, 6, 16)),
    ("conv2d_transpose_1", (None, 8, 8, 32)),
    ("up_sampling2d", (None, 24, 24, 32)),
    ("conv2d_transpose_2", (None, 26, 26, 16)),
    ("conv2d_transpose_3", (None, 28, 28, 1)),
]
actual_shapes = [(layer.name, tuple(layer.output.shape)) for layer in autoencoder.layers]
check(actual_shapes == expected_shapes, f"layer names/output shapes differ from the guide:\n{actual_shapes}")
check(autoencoder.output_shape == autoencoder.input_shape, "the decoder does not mirror the encoder")

# The encoder's layers ARE the autoencoder's first layers (same objects, same weights).
check(all(a is b for a, b in zip(encoder.layers, autoencoder.layers)), "encoder and autoencoder do not share layers")

# --- Train the autoencoder a little on MNIST-shaped data; the encoder learns with it ------------
(x_train, _), _ = mnist_like_data(num_train=384, num_test=10)
x_train = x_train.reshape(-1, 28, 28, 1).astype("float32") / 255
encoder_weights_before = [w.copy() for w in encoder.get_weights()]
autoencoder.compile(optimizer="adam", loss="mse")
history = autoencoder.fit(x_train, x_train, batch_size=64, epochs=3, verbose=2)
check(history.history["loss"][-1] < history.history["loss"][0], "autoencoder loss did not go down")
check(
    any(not np.array_equal(a, b) for a, b in zip(encoder_weights_before, encoder.get_weights())),
    "training the autoencoder did not change the shared encoder weights",
)
codes = encoder.predict(x_train[:8], verbose=0)
check(codes.shape == (8, 16), f"encoder output shape {codes.shape}")
print("OK: encoder and autoencoder built from one graph of layers; they share weights.")
