"""Port of keras-io `examples/generative/pixelcnn.py` (PixelCNN, ADMoreau, Keras 3 edition).

Changed: data (MNIST -> seeded random 0/1 images (n, 10, 10, 1), n=64, binarized as the
example does), the model's size (128 filters, 5 residual blocks on 28x28 -> 16 filters, 2
blocks on 10x10), epochs 50 -> 2, batch_size 64 -> 16, `verbose=0`, the pixel-by-pixel
generation loop (the `keras.random` Bernoulli sampling of `predict`'s probabilities) cut to
the first 3 pixels of a 2-image batch, image saving and display dropped, the library passed
in as `keras`. The layers (`PixelConvLayer` re-masking its Conv2D kernel with
`kernel.assign(kernel * mask)` on every call; `ResidualBlock`), the model, Adam(1e-4),
`binary_crossentropy` and `validation_split=0.1` are the example's.
"""

import numpy as np


def run(keras, on_model=None, shuffle=True):
    """Runs the example with `keras` (Keras 3 or keraslike); returns the History.

    `on_model(model)` is called on the model before it trains and `shuffle` goes to `fit` (the
    parity test copies Keras's initial weights in and trains unshuffled).
    """
    layers = keras.layers
    ops = keras.ops
    rng = np.random.default_rng(0)

    input_shape = (10, 10, 1)
    n_residual_blocks = 2
    data = rng.integers(0, 256, size=(64, 10, 10))
    # round all pixel values less than 33% of the max 256 value to 0
    # anything above this value gets rounded up to 1 so that all values are either 0 or 1
    data = np.where(data < (0.33 * 256), 0, 1)
    data = data.astype(np.float32)[..., None]

    # The first layer is the PixelCNN layer: a 2D convolution with the requisite masking.
    class PixelConvLayer(layers.Layer):
        def __init__(self, mask_type, **kwargs):
            super().__init__()
            self.mask_type = mask_type
            self.conv = layers.Conv2D(**kwargs)

        def build(self, input_shape):
            # Build the conv2d layer to initialize kernel variables
            self.conv.build(input_shape)
            # Use the initialized kernel to create the mask
            kernel_shape = ops.shape(self.conv.kernel)
            self.mask = np.zeros(shape=kernel_shape)
            self.mask[: kernel_shape[0] // 2, ...] = 1.0
            self.mask[kernel_shape[0] // 2, : kernel_shape[1] // 2, ...] = 1.0
            if self.mask_type == "B":
                self.mask[kernel_shape[0] // 2, kernel_shape[1] // 2, ...] = 1.0

        def call(self, inputs):
            self.conv.kernel.assign(self.conv.kernel * self.mask)
            return self.conv(inputs)

    # Next, the residual block layer: a normal residual block with the PixelConvLayer built in.
    class ResidualBlock(layers.Layer):
        def __init__(self, filters, **kwargs):
            super().__init__(**kwargs)
            self.conv1 = layers.Conv2D(filters=filters, kernel_size=1, activation="relu")
            self.pixel_conv = PixelConvLayer(
                mask_type="B",
                filters=filters // 2,
                kernel_size=3,
                activation="relu",
                padding="same",
            )
            self.conv2 = layers.Conv2D(filters=filters, kernel_size=1, activation="relu")

        def call(self, inputs):
            x = self.conv1(inputs)
            x = self.pixel_conv(x)
            x = self.conv2(x)
            return layers.add([inputs, x])

    inputs = keras.Input(shape=input_shape)
    x = PixelConvLayer(mask_type="A", filters=16, kernel_size=7, activation="relu", padding="same")(inputs)

    for _ in range(n_residual_blocks):
        x = ResidualBlock(filters=16)(x)

    for _ in range(2):
        x = PixelConvLayer(
            mask_type="B",
            filters=16,
            kernel_size=1,
            strides=1,
            activation="relu",
            padding="valid",
        )(x)

    out = layers.Conv2D(filters=1, kernel_size=1, strides=1, activation="sigmoid", padding="valid")(x)

    pixel_cnn = keras.Model(inputs, out)
    adam = keras.optimizers.Adam(learning_rate=0.0001)
    pixel_cnn.compile(optimizer=adam, loss="binary_crossentropy")
    if on_model is not None:
        on_model(pixel_cnn)
    history = pixel_cnn.fit(
        x=data, y=data, batch_size=16, epochs=2, validation_split=0.1, verbose=0, shuffle=shuffle
    )

    # Generation: pixel by pixel, each sampled from the predicted probability.
    batch = 2
    pixels = np.zeros(shape=(batch,) + (pixel_cnn.input_shape)[1:])
    batch, rows, cols, channels = pixels.shape
    seed_generator = keras.random.SeedGenerator(42)
    for row in range(1):
        for col in range(3):
            for channel in range(channels):
                probs = pixel_cnn.predict(pixels, verbose=0)[:, row, col, channel]
                sample = keras.random.uniform(ops.shape(probs), seed=seed_generator)
                pixels[:, row, col, channel] = ops.convert_to_numpy(ops.cast(ops.less(sample, probs), "float32"))
    assert set(np.unique(pixels)) <= {0.0, 1.0}
    # The masks held: the first pixel's prediction sees no pixel (mask "A" excludes the centre).
    first = pixel_cnn.predict(np.ones((1,) + input_shape, "float32"), verbose=0)[0, 0, 0, 0]
    blank = pixel_cnn.predict(np.zeros((1,) + input_shape, "float32"), verbose=0)[0, 0, 0, 0]
    history.results = {"first_pixel": {"ones": [float(first)], "zeros": [float(blank)]}}
    np.testing.assert_allclose(first, blank, rtol=1e-5)
    return history
